package wal

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// record is one queued append: its encoded header and the caller's payload, which the
// caller keeps unchanged until Append returns.
type record struct {
	hdr     header
	payload []byte
}

// batch is the group of records that one write and one fsync make durable. Appenders add
// to the open batch and wait on done; the committer fills pos and err, then closes done.
type batch struct {
	recs []record
	pos  []Position
	err  error
	done chan struct{}
}

// queue collects appends into the open batch until the committer takes it. It is
// bounded by records, so a stalled disk pushes back on writers instead of buffering
// without end.
type queue struct {
	mu     sync.Mutex
	open   *batch
	room   chan struct{} // closed (and replaced) each time the committer takes a batch
	closed bool
	err    error         // set once the log has failed; every later append gets it
	spare  []record      // a recycled recs array for the next batch
	limit  int           // Options.QueueSize
	wait   time.Duration // Options.QueueWait; 0: only the caller's context
	n      atomic.Int64  // records in open, readable without the lock
	work   chan struct{} // capacity 1: "the open batch is not empty"
}

func newQueue(limit int, wait time.Duration) *queue {
	return &queue{
		open:  &batch{done: make(chan struct{})},
		room:  make(chan struct{}),
		limit: limit,
		wait:  wait,
		work:  make(chan struct{}, 1),
	}
}

// add puts recs into the open batch, waiting for room while the queue is full, and
// returns that batch and the index of the first record in it. A batch larger than the
// whole queue is admitted once the queue is empty, so it cannot wait for ever.
func (q *queue) add(ctx context.Context, recs []record) (*batch, int, error) {
	var full <-chan time.Time // armed on the first wait for room, if q.wait bounds it
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return nil, 0, ErrClosed
		}
		if q.err != nil {
			err := q.err
			q.mu.Unlock()
			return nil, 0, err
		}
		if len(q.open.recs) == 0 || len(q.open.recs)+len(recs) <= q.limit {
			break
		}
		room := q.room
		q.mu.Unlock()
		if full == nil && q.wait > 0 {
			t := time.NewTimer(q.wait)
			defer t.Stop()
			full = t.C
		}
		select {
		case <-room:
		case <-full:
			return nil, 0, fmt.Errorf("%w: no room in the queue for %v", ErrOverloaded, q.wait)
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("%w: %w", ErrOverloaded, ctx.Err())
		}
		q.mu.Lock()
	}
	b := q.open
	first := len(b.recs)
	b.recs = append(b.recs, recs...)
	q.n.Store(int64(len(b.recs)))
	q.mu.Unlock()
	select {
	case q.work <- struct{}{}:
	default:
	}
	return b, first, nil
}

// Bounds of the committer's wait for a batch to fill (see next). Measured with 64
// appenders on 2 cores: 16 yields ending after 2 idle ones filled batches to ~54
// records against ~45 for (8, 1) and ~29 for no yield at all.
const (
	maxYields  = 16
	idleYields = 2
)

// next waits for a non-empty batch and takes it, or returns nil once the queue is closed
// and empty. expect is the size of the previous batch.
//
// Why it yields: the appenders that the previous batch released are runnable but have
// not run yet, and the committer, woken by the first of them, usually runs first (Go
// hands a just-readied goroutine the processor). Taking the batch at once would then
// write a few records per fsync; with GOMAXPROCS=1, one. So while the batch is smaller
// than the previous one or no larger (a batch stuck at one record must get the chance to
// grow), the committer yields, and stops when records stop arriving.
// A yield with nobody else runnable returns in well under a microsecond, so a lone
// appender pays nothing measurable.
func (q *queue) next(expect int) *batch {
	for {
		q.mu.Lock()
		if len(q.open.recs) > 0 {
			q.mu.Unlock()
			break
		}
		if q.closed {
			q.mu.Unlock()
			return nil
		}
		q.mu.Unlock()
		<-q.work
	}
	n, idle := q.n.Load(), 0
	for i := 0; i < maxYields && n <= int64(expect) && idle < idleYields; i++ {
		runtime.Gosched()
		if m := q.n.Load(); m != n {
			n, idle = m, 0
		} else {
			idle++
		}
	}
	return q.take()
}

// take detaches the open batch, opens a fresh one and wakes appenders waiting for room.
func (q *queue) take() *batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.open
	q.open = &batch{recs: q.spare[:0], done: make(chan struct{})}
	q.spare = nil
	q.n.Store(0)
	close(q.room)
	q.room = make(chan struct{})
	return b
}

// recycle hands a written batch's records array back for reuse, after dropping the
// payload references so that they can be collected.
func (q *queue) recycle(recs []record) {
	clear(recs)
	q.mu.Lock()
	if q.spare == nil {
		q.spare = recs
	}
	q.mu.Unlock()
}

// close stops new appends. Records already queued are still written by the committer.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	close(q.room)
	q.room = make(chan struct{})
	q.mu.Unlock()
	select {
	case q.work <- struct{}{}:
	default:
	}
}

// fail makes every later append return err.
func (q *queue) fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	close(q.room)
	q.room = make(chan struct{})
	q.mu.Unlock()
}
