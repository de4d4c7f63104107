package wal

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults for the zero values of Options.
const (
	// DefaultSegmentSize is the size at which the active segment is sealed and a new one
	// started. 64 MiB keeps the file count low while a sealed segment stays cheap to
	// verify, copy or delete.
	DefaultSegmentSize = 64 << 20

	// DefaultMaxRecordSize bounds a payload. It also bounds what a decoder will believe a
	// length field, so a corrupt length cannot make a reader allocate gigabytes.
	DefaultMaxRecordSize = 16 << 20

	// DefaultQueueSize is how many records may wait for the committer before Append
	// blocks. It is far above any useful batch (a few hundred records fill an fsync) and
	// low enough that a stalled disk pushes back on writers within milliseconds.
	DefaultQueueSize = 4096
)

// Options configures a Log. The zero value is valid: every zero field takes its default.
// Options are validated once, by Open.
type Options struct {
	// SegmentSize is the size in bytes after which the active segment is sealed. A record
	// is never split: a segment is sealed before the record that would cross the size,
	// and a record larger than SegmentSize gets a segment to itself. Defaults to
	// DefaultSegmentSize.
	SegmentSize int64

	// MaxRecordSize is the largest payload Append accepts, and the largest length a
	// reader or recovery will accept from a record header. Never lower it below a record
	// already in the log: such a record would then read as corrupt. Defaults to
	// DefaultMaxRecordSize; at most math.MaxUint32.
	MaxRecordSize int

	// QueueSize is the number of records that may wait to be written. When it is full,
	// Append waits for room until its context ends and then fails with ErrOverloaded.
	// Defaults to DefaultQueueSize.
	QueueSize int

	// QueueWait bounds how long Append waits for room in a full queue before it fails
	// with ErrOverloaded, so that a server sheds load quickly while a request's own
	// context still bounds the wait for the fsync. Zero leaves the caller's context as
	// the only bound.
	QueueWait time.Duration

	// NoPreallocate turns off preallocation: by default the next segment is filled with
	// zeros in the background before it is needed, because overwriting allocated blocks
	// makes fdatasync cheaper than growing the file (see the package doc for numbers).
	NoPreallocate bool

	// NoIOUring makes the committer call fdatasync itself instead of submitting the
	// flush to an io_uring and waiting for it in the runtime's poller. The ring is used
	// by default where the kernel allows it (Linux); see the package doc for why and
	// for numbers.
	NoIOUring bool

	// Logger receives recovery, truncation and failure reports. Defaults to a logger that
	// discards everything.
	Logger *slog.Logger
}

// withDefaults returns o with defaults filled in, or an error for a value that cannot work.
func (o Options) withDefaults() (Options, error) {
	if o.QueueWait < 0 {
		return o, fmt.Errorf("queue wait %v is negative", o.QueueWait)
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < 0 {
		return o, fmt.Errorf("wal: options: segment size %d is negative", o.SegmentSize)
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.MaxRecordSize < 0 || int64(o.MaxRecordSize) > math.MaxUint32 {
		return o, fmt.Errorf("wal: options: max record size %d out of range [1, %d]", o.MaxRecordSize, uint64(math.MaxUint32))
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.QueueSize < 0 {
		return o, fmt.Errorf("wal: options: queue size %d is negative", o.QueueSize)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
