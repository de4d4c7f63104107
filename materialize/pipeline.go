package materialize

import (
	"context"
)

// walk runs a walk over groups by id, from after to the end: prepare reads and
// resolves the chunk after an id, commit writes it. Both the dirty walk and Backfill
// walk this way.
//
// It is a two-stage pipeline: chunk k+1 is read and resolved (read pool, lenses) while
// chunk k commits (the writer), since loading and committing a chunk take about as long
// as each other and run on different connections. That is safe because the chunks of
// one walk hold different groups, and commits still happen in the order of the reads,
// so a newer read of a group is never overwritten by an older one (doc.go). The work
// lock is held for the whole walk, except that when another walk waits for it, the
// pipeline empties between two chunks and hands the lock over.
func (m *Materializer) walk(ctx context.Context, after int64,
	prepare func(context.Context, int64) (*prepared, error),
	commit func(context.Context, *prepared) error,
) error {
	m.lockWork()
	defer m.work.Unlock()

	cur, err := prepare(ctx, after)
	if err != nil {
		return err
	}
	type next struct {
		p   *prepared
		err error
	}
	for {
		var ahead chan next
		if !cur.exhausted && m.waiting.Load() == 0 && !m.sequential {
			ahead = make(chan next, 1)
			after := cur.last
			go func() {
				p, err := prepare(ctx, after)
				ahead <- next{p, err}
			}()
		}
		cerr := commit(ctx, cur)
		var nx next
		if ahead != nil {
			nx = <-ahead // always wait: the goroutine must not outlive the walk
		}
		if cerr != nil {
			return cerr
		}
		if cur.exhausted {
			return nil
		}
		if ahead == nil {
			if m.waiting.Load() > 0 {
				// The pipeline is empty: let the waiting walk in (a waiter blocked for
				// over 1 ms gets the lock directly from Unlock).
				m.work.Unlock()
				m.lockWork()
			}
			nx.p, nx.err = prepare(ctx, cur.last)
		}
		if nx.err != nil {
			return nx.err
		}
		cur = nx.p
	}
}

// lockWork takes the work lock, counting itself as waiting meanwhile so that a walk
// holding the lock lets it in.
func (m *Materializer) lockWork() {
	m.waiting.Add(1)
	m.work.Lock()
	m.waiting.Add(-1)
}
