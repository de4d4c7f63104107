package materialize

import (
	"sync"
	"time"

	"github.com/stemedb/stemedb/sqlview"
)

// retries holds back the groups a lens failed on, each until its backoff expires. It
// is memory only: the durable record of a failure is the group's dirty mark, so after a
// restart every such group is simply tried once more at once.
type retries struct {
	min, max time.Duration

	mu   sync.Mutex // the pipeline reads it for chunk k+1 while chunk k's commit updates it
	held map[int64]heldGroup
}

type heldGroup struct {
	attempts int
	until    time.Time
	offset   uint64 // its dirty mark's offset at the failure: a newer change retries at once
	gen      uint64 // the lens set's generation at the failure: a new set retries at once
}

func newRetries(min, max time.Duration) *retries {
	return &retries{min: min, max: max, held: make(map[int64]heldGroup)}
}

// wait reports whether d must still wait at now, and until when.
func (r *retries) wait(d sqlview.DirtyGroup, gen uint64, now time.Time) (bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.held[d.ID]
	if !ok || h.gen != gen || h.offset != d.Offset || !now.Before(h.until) {
		return false, time.Time{}
	}
	return true, h.until
}

// hold records another failure of d, doubling its wait each time, and returns when it
// may be retried.
func (r *retries) hold(d sqlview.DirtyGroup, gen uint64, now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.held[d.ID]
	h.attempts++
	wait := r.min
	for i := 1; i < h.attempts && wait < r.max; i++ {
		wait *= 2
	}
	h.until, h.offset, h.gen = now.Add(min(wait, r.max)), d.Offset, gen
	r.held[d.ID] = h
	return h.until
}

// forget drops the groups that succeeded.
func (r *retries) forget(done []sqlview.DirtyGroup) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range done {
		delete(r.held, d.ID)
	}
}

func (r *retries) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}
