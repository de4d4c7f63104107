package wal

import "errors"

// ringError is a failure of the io_uring itself (submission, waiting, a completion that
// does not match) rather than of the flush it carried, so the file can still be flushed
// another way.
type ringError struct{ err error }

func (e *ringError) Error() string { return "io_uring: " + e.err.Error() }
func (e *ringError) Unwrap() error { return e.err }

// flushFile makes the active segment's written data durable: through the ring while it
// works, else with fdatasync. A ring that fails is dropped for good, with a warning, and
// the same flush is redone with fdatasync, so a kernel that turns io_uring away later
// (resource limits, a broken ring) slows the log down instead of failing it. The
// result of a flush itself, an I/O error, is returned either way.
func (l *Log) flushFile() error {
	if l.ring != nil {
		err := l.ring.dataSync(l.f)
		var re *ringError
		if !errors.As(err, &re) {
			return err
		}
		l.opts.Logger.Warn("wal: io_uring failed; flushing with fdatasync from now on", "dir", l.dir, "err", err)
		l.ring.close()
		l.ring = nil
		l.ringOn.Store(false)
	}
	return dataSync(l.f)
}
