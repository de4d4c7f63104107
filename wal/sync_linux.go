//go:build linux

package wal

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// dataSync flushes f's data and the metadata needed to read it back (fdatasync), which
// skips the timestamp updates that fsync would also journal.
func dataSync(f *os.File) error {
	return onDescriptor(f, "fdatasync", func(fd int) error { return syscall.Fdatasync(fd) })
}

// writeBack starts writeback of f's bytes [off, off+n) and waits for it to finish
// (sync_file_range): the data reaches the disk but nothing is made durable, so a final
// fsync is still needed. It spreads a big file's writeback over its writes.
func writeBack(f *os.File, off, n int64) error {
	return onDescriptor(f, "sync_file_range", func(fd int) error {
		return unix.SyncFileRange(fd, off, n,
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	})
}

// onDescriptor runs call on f's descriptor, again while it is interrupted (EINTR), and
// names the call and the file in its error. The descriptor is used inside
// RawConn.Control, which holds a reference on f, so the file cannot be closed (or
// finalized by the GC) while the call runs.
func onDescriptor(f *os.File, name string, call func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, f.Name(), err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			if serr = call(int(fd)); !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, f.Name(), err)
	}
	return nil
}
