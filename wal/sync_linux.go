//go:build linux

package wal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
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
