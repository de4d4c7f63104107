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
// skips the timestamp updates that fsync would also journal. The descriptor is used
// inside RawConn.Control, which holds a reference on f, so the file cannot be closed (or
// finalized by the GC) while the call runs.
func dataSync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
	}
	return nil
}

// writeBack starts writeback of f's bytes [off, off+n) and waits for it to finish
// (sync_file_range): the data reaches the disk but nothing is made durable, so a final
// fsync is still needed. It spreads a big file's writeback over its writes.
func writeBack(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("sync_file_range %s: %w", f.Name(), err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		for {
			serr = unix.SyncFileRange(int(fd), off, n,
				unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("sync_file_range %s: %w", f.Name(), err)
	}
	return nil
}
