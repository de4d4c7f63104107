package materialize

import (
	"context"
	"fmt"
	"time"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// prepared is a chunk of a walk (the dirty walk or a backfill) that has been read and
// resolved, ready to commit.
type prepared struct {
	last      int64     // the id the next chunk continues after
	exhausted bool      // the walk reached the end (of the dirty set, of the groups)
	retryAt   time.Time // earliest retry of a held-back group this chunk skipped

	todo    []sqlview.DirtyGroup // dirty walk: the marks read, of the groups resolved
	groups  []sqlview.Group
	results []lensResult
	gen     uint64 // the lens set's generation the results come from
	stats   chunkStats
}

// pass walks the dirty set once, from the first id to the last, and returns the number
// of groups done and the earliest retry of a group it held back.
func (m *Materializer) pass(ctx context.Context) (done int, retryAt time.Time, err error) {
	err = m.walk(ctx, 0, m.prepareDirty, func(ctx context.Context, p *prepared) error {
		retryAt = earliest(retryAt, p.retryAt)
		n, ra, err := m.commitDirty(ctx, p)
		done += n
		retryAt = earliest(retryAt, ra)
		return err
	})
	return done, retryAt, err
}

// prepareDirty reads the next chunk of dirty groups with ids above after and their
// candidates (steps 1 and 2 of the package doc), and calls every lens on it. The
// caller holds the work lock.
func (m *Materializer) prepareDirty(ctx context.Context, after int64) (*prepared, error) {
	lenses, gen := m.snapshot()
	if len(lenses) == 0 {
		// Not configured yet (SetLenses not called): clearing marks now would leave
		// the lenses set later without rows for these groups.
		return &prepared{last: after, exhausted: true}, nil
	}
	t0 := time.Now()
	tx, err := m.db.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("read dirty groups: %w", err)
	}
	defer tx.Rollback()
	ds, err := sqlview.DirtyGroupsAfter(ctx, tx, after, m.opts.ChunkSize)
	if err != nil {
		return nil, err
	}
	p := &prepared{exhausted: len(ds) < m.opts.ChunkSize, gen: gen, last: after}
	if len(ds) > 0 {
		p.last = ds[len(ds)-1].ID
	}
	p.todo = make([]sqlview.DirtyGroup, 0, len(ds))
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		if wait, until := m.retries.wait(d, gen, t0); wait {
			p.retryAt = earliest(p.retryAt, until)
			continue
		}
		p.todo = append(p.todo, d)
		ids = append(ids, d.ID)
	}
	if len(p.todo) == 0 {
		return p, nil
	}
	if p.groups, err = sqlview.LoadGroups(ctx, tx, ids); err != nil {
		return nil, err
	}
	if err := tx.Rollback(); err != nil { // a read transaction: nothing to commit
		return nil, fmt.Errorf("read dirty groups: %w", err)
	}
	p.stats.load = time.Since(t0)

	t1 := time.Now()
	if p.results, err = m.resolveAll(ctx, lenses, HostGroups(p.groups)); err != nil {
		return nil, err
	}
	p.stats.resolve = time.Since(t1)
	return p, nil
}

// commitDirty is step 3 of the package doc: one write transaction with the rows of every
// (lens, group) that resolved, the dirty marks of the groups every lens resolved, and
// the materialized offset when the walk reached the end. It returns the number of
// groups done and when the groups held back may be retried.
func (m *Materializer) commitDirty(ctx context.Context, p *prepared) (int, time.Time, error) {
	if len(p.todo) == 0 {
		return 0, time.Time{}, nil
	}
	// A group is done when every lens resolved it. Ids LoadGroups did not find (no
	// such group) have nothing to resolve and are done too.
	failed := make(map[int64]bool)
	for _, r := range p.results {
		for gi, f := range r.failed {
			if f {
				failed[p.groups[gi].ID] = true
			}
		}
	}
	clear := make([]sqlview.DirtyGroup, 0, len(p.todo))
	for _, d := range p.todo {
		if !failed[d.ID] {
			clear = append(clear, d)
		}
	}

	t0 := time.Now()
	cs := p.stats
	var off uint64
	err := m.db.Write(ctx, func(tx *sqlview.Tx) (err error) {
		if err := writeRows(ctx, tx, p.groups, p.results, &cs); err != nil {
			return err
		}
		if err := sqlview.ClearDirty(ctx, tx, clear); err != nil {
			return err
		}
		if p.exhausted {
			off, err = m.recordOffset(ctx, tx)
		}
		return err
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("materialize chunk: %w", err)
	}
	cs.commit = time.Since(t0)
	cs.groups = len(clear)

	// Only now, with the commit done, does the retry state follow.
	var retryAt time.Time
	m.retries.forget(clear)
	for _, d := range p.todo {
		if failed[d.ID] {
			retryAt = earliest(retryAt, m.retries.hold(d, p.gen, t0))
		}
	}
	m.addChunkStats(cs)
	m.publish(off)
	return len(clear), retryAt, nil
}

// writeRows writes the winners of every (lens, group) that resolved, in tx, one
// batched ReplaceResolvedMany per lens, and counts what it wrote into cs.
func writeRows(ctx context.Context, tx *sqlview.Tx, groups []sqlview.Group, results []lensResult, cs *chunkStats) error {
	before, err := sqlview.TotalChanges(ctx, tx)
	if err != nil {
		return err
	}
	gs := make([]*sqlview.Group, 0, len(groups))
	winners := make([][]assertion.Hash, 0, len(groups))
	hashes := make([]assertion.Hash, 0, 4*len(groups))
	for _, r := range results {
		gs, winners, hashes = gs[:0], winners[:0], hashes[:0]
		for gi := range groups {
			if r.failed[gi] {
				continue
			}
			g := &groups[gi]
			start := len(hashes)
			for _, i := range r.winners[gi] {
				hashes = append(hashes, g.Candidates[i].Hash)
			}
			gs = append(gs, g)
			winners = append(winners, hashes[start:len(hashes):len(hashes)])
			cs.winnerRows += int64(len(hashes) - start)
		}
		changed, err := sqlview.ReplaceResolvedMany(ctx, tx, r.lens, gs, winners)
		if err != nil {
			return err
		}
		cs.results += len(changed)
		for _, c := range changed {
			if c {
				cs.changed++
			}
		}
	}
	after, err := sqlview.TotalChanges(ctx, tx)
	if err != nil {
		return err
	}
	cs.rowsWritten += after - before
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
