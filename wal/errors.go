package wal

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; the returned errors wrap them with the
// operation that failed and, where there is one, the underlying cause.
var (
	// ErrClosed is returned by every call on a Log after Close, and by Reader.Next once its
	// Log or the Reader itself is closed.
	ErrClosed = errors.New("wal: closed")

	// ErrCorrupt marks a record whose length, CRC-32C or BLAKE3 hash does not check out
	// where a valid record must be (a sealed segment, or below the durable end). The
	// concrete error is a *CorruptError naming the file and offset.
	ErrCorrupt = errors.New("wal: corrupt record")

	// ErrOverloaded is returned by Append when the queue stayed full until the caller's
	// context ended. It also wraps the context's error. Nothing was written: the caller may
	// retry (the HTTP layer answers 429 or 503).
	ErrOverloaded = errors.New("wal: overloaded")

	// ErrFailed is returned once a write or fsync of the log has failed: by the appends of
	// the batch that failed and by every later append, until the Log is reopened. After an
	// fsync error the kernel may have dropped the dirty pages, so retrying could
	// acknowledge data that is not on disk; failing for good is the only honest answer.
	ErrFailed = errors.New("wal: failed")

	// ErrTooLarge is returned by Append for a payload longer than Options.MaxRecordSize.
	ErrTooLarge = errors.New("wal: record too large")

	// ErrDeleted is returned for an offset below the first retained segment: the range
	// was removed by DeleteBefore (or by hand).
	ErrDeleted = errors.New("wal: offset deleted by retention")

	// ErrOutOfRange is returned by NewReader for an offset past the durable end.
	ErrOutOfRange = errors.New("wal: offset beyond end of log")

	// ErrLocked is returned by Open and Repair when another Log (in this or another
	// process) holds the directory.
	ErrLocked = errors.New("wal: directory locked by another log")
)

// CorruptError reports a record that fails its checks. It unwraps to ErrCorrupt.
type CorruptError struct {
	// Path is the segment file holding the record.
	Path string
	// Offset is the global log offset where the bad record starts.
	Offset uint64
	// Reason says which check failed, for the operator.
	Reason string

	cause error // the check that failed, for errors.Is inside the package
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("wal: corrupt record in %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Unwrap lets errors.Is(err, ErrCorrupt) match.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
