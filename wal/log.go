package wal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Position is where a record sits in the log.
type Position struct {
	// Offset is the global offset of the record's first byte.
	Offset uint64
	// End is the offset just past the record: the next record's Offset. It is the value
	// the HTTP layer returns as "offset" and that readers wait for.
	End uint64
}

// Stats counts the committer's work since Open. Records/Batches is the mean group size.
type Stats struct {
	Records   uint64 // records made durable
	Batches   uint64 // groups written by the committer, each acknowledged by one final fsync
	Syncs     uint64 // fdatasync calls on segments (a batch that crosses a rotation makes two)
	Bytes     uint64 // bytes written, headers included
	Rotations uint64 // segments sealed
}

// Log is an open write-ahead log: one writer (the committer goroutine, fed by Append)
// and any number of Readers. All methods are safe for concurrent use.
type Log struct {
	dir  string
	opts Options
	lock *os.File // holds the directory's flock until Close

	q *queue

	// mu guards segs: the base offsets of the segments, in order; the last is active.
	mu    sync.RWMutex
	segs  []uint64
	first atomic.Uint64 // segs[0], readable without mu

	// durable is the end of fsynced data and the channel closed when it next moves.
	durable atomic.Pointer[durableState]

	// Owned by the committer goroutine once Open returns (and by Close after it exits).
	f         *os.File    // active segment, opened read-write
	wbase     uint64      // active segment's base offset
	wend      uint64      // end of the bytes handed to the kernel
	unsynced  bool        // bytes written since the last fdatasync
	wprealloc bool        // active file is zero-filled past wend
	requested bool        // a prepared file has been asked for this segment
	ring      *ringSyncer // flushes through io_uring; nil: fdatasync on the committer's thread
	ringOn    atomic.Bool // ring != nil, for SyncMethod from other goroutines
	buf       []byte      // records waiting to be written at wend
	failErr   error       // set after a failed write or sync
	prep      *preparer
	faults    faults

	retention sync.Mutex // serialises DeleteBefore

	committerDone chan struct{}
	closed        chan struct{} // closed when Close is done; wakes Readers
	closeOnce     sync.Once
	closeErr      error

	stats struct {
		records, batches, syncs, bytes, rotations atomic.Uint64
	}
}

// durableState is published (never changed) by the committer after each fsync. Readers
// wait on ch, which is closed when a newer state replaces this one: one channel per
// advance wakes every waiting reader without polling.
type durableState struct {
	end uint64
	ch  chan struct{}
}

// faults injects write and sync errors in tests. The zero value injects nothing.
type faults struct {
	write func() error
	sync  func() error
}

// Open opens the log in dir, creating dir and the first segment if needed, and recovers
// it: only the last segment is scanned, and a torn or corrupt tail there is truncated
// (and logged). Options are validated here.
func Open(dir string, opts Options) (*Log, error) {
	return open(dir, opts, faults{})
}

func open(dir string, opts Options, ft faults) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	l := &Log{
		dir:           dir,
		opts:          opts,
		lock:          lock,
		q:             newQueue(opts.QueueSize, opts.QueueWait),
		faults:        ft,
		committerDone: make(chan struct{}),
		closed:        make(chan struct{}),
	}
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if !opts.NoPreallocate {
		l.prep = newPreparer(dir, opts.SegmentSize, opts.Logger)
	}
	if !opts.NoIOUring {
		if l.ring, err = newRingSyncer(); err != nil {
			opts.Logger.Info("wal: io_uring unavailable, flushing with fdatasync", "dir", dir, "err", err)
		}
		l.ringOn.Store(l.ring != nil)
	}
	go l.run()
	return l, nil
}

// makeDir creates dir if it is missing and makes its entry durable.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create dir: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}

// Append writes payload as one record and returns its position once it is durable. It
// waits for room in the queue until ctx ends or Options.QueueWait passes (then:
// ErrOverloaded, nothing written), and then for the fsync. If ctx ends during the fsync wait, Append returns ctx's error and
// the record may or may not become durable: it was not acknowledged. payload must not be
// changed until Append returns.
func (l *Log) Append(ctx context.Context, payload []byte) (Position, error) {
	if len(payload) > l.opts.MaxRecordSize {
		return Position{}, fmt.Errorf("append: %w: %d bytes > %d", ErrTooLarge, len(payload), l.opts.MaxRecordSize)
	}
	if err := ctx.Err(); err != nil {
		return Position{}, fmt.Errorf("append: %w", err)
	}
	var recs [1]record
	recs[0].payload = payload
	encodeHeader(&recs[0].hdr, payload)
	b, i, err := l.q.add(ctx, recs[:])
	if err != nil {
		return Position{}, fmt.Errorf("append: %w", err)
	}
	if err := wait(ctx, b); err != nil {
		return Position{}, fmt.Errorf("append: %w", err)
	}
	return b.pos[i], nil
}

// AppendBatch writes payloads as consecutive records in one group commit (one fsync,
// or two if a rotation falls inside them) and returns their positions once all are
// durable. Either all are acknowledged or none is. A batch longer than Options.QueueSize
// waits until the queue is empty.
func (l *Log) AppendBatch(ctx context.Context, payloads [][]byte) ([]Position, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	recs := make([]record, len(payloads))
	for i, p := range payloads {
		if len(p) > l.opts.MaxRecordSize {
			return nil, fmt.Errorf("append batch: item %d: %w: %d bytes > %d", i, ErrTooLarge, len(p), l.opts.MaxRecordSize)
		}
		recs[i].payload = p
		encodeHeader(&recs[i].hdr, p)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	b, first, err := l.q.add(ctx, recs)
	if err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	if err := wait(ctx, b); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	return append([]Position(nil), b.pos[first:first+len(payloads)]...), nil
}

// wait blocks until b is durable (or failed) or ctx ends.
func wait(ctx context.Context, b *batch) error {
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for fsync (record not acknowledged): %w", ctx.Err())
	}
}

// End returns the durable end: the offset just past the last fsynced record. Readers
// see exactly the records below it.
func (l *Log) End() uint64 { return l.durable.Load().end }

// First returns the offset of the first retained record (the first segment's base).
func (l *Log) First() uint64 { return l.first.Load() }

// Stats returns the committer's counters.
func (l *Log) Stats() Stats {
	return Stats{
		Records:   l.stats.records.Load(),
		Batches:   l.stats.batches.Load(),
		Syncs:     l.stats.syncs.Load(),
		Bytes:     l.stats.bytes.Load(),
		Rotations: l.stats.rotations.Load(),
	}
}

// SyncMethod says how the committer flushes: "io_uring", or "fdatasync" where io_uring
// is unavailable, Options.NoIOUring is set, or the ring failed and was dropped (see the
// package doc).
func (l *Log) SyncMethod() string {
	if l.ringOn.Load() {
		return "io_uring"
	}
	return "fdatasync"
}

// HeldProcs is how many Go processors the committer keeps from other goroutines while
// it flushes: 1 with fdatasync, which holds its processor for the whole flush until the
// scheduler takes it back, and 0 through io_uring. A program whose CPU is busy with
// other work can add it to GOMAXPROCS (stemedb serve does; see the package doc).
func (l *Log) HeldProcs() int {
	if l.ringOn.Load() {
		return 0
	}
	return 1
}

// publish makes end the new durable end and wakes every waiting Reader.
func (l *Log) publish(end uint64) {
	old := l.durable.Swap(&durableState{end: end, ch: make(chan struct{})})
	if old != nil {
		close(old.ch)
	}
}

// isClosed reports whether Close has finished.
func (l *Log) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// Close stops accepting appends, writes and fsyncs everything already queued, trims a
// preallocated active segment to its real end and closes the files. Later Appends return
// ErrClosed, and so does Reader.Next. After a write failure, Close returns that failure.
// Calling Close again returns the first call's result.
func (l *Log) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Log) close() error {
	l.q.close()
	<-l.committerDone
	if l.prep != nil {
		l.prep.close()
	}
	if l.ring != nil {
		l.ring.close()
	}
	var err error
	if l.failErr == nil && l.wprealloc {
		err = l.trimActive()
	}
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close segment: %w", cerr)
	}
	close(l.closed)
	l.lock.Close()
	if l.failErr != nil {
		return fmt.Errorf("close: %w", l.failErr)
	}
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
