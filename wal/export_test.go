package wal

// Hooks for the black-box tests in package wal_test.

// OpenWithFaults opens like Open, calling write before every write and sync before
// every fdatasync of a segment; a non-nil error from either stands in for the system
// call's error.
func OpenWithFaults(dir string, opts Options, write, sync func() error) (*Log, error) {
	return open(dir, opts, faults{write: write, sync: sync})
}

// EncodeRecord returns the on-disk encoding of one record.
func EncodeRecord(payload []byte) []byte { return appendRecord(nil, payload) }

// HeaderSize is the size of a record header.
const HeaderSize = headerSize

// SegmentName is the file name of the segment starting at base.
func SegmentName(base uint64) string { return segmentName(base) }

// Queued returns how many records wait in the open batch.
func Queued(l *Log) int { return int(l.q.n.Load()) }
