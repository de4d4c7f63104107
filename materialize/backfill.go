package materialize

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stemedb/stemedb/sqlview"
)

// ErrBackfillStopped is the cause a backfill returns when a newer Backfill of one of
// its lenses, or RemoveLens, stopped it.
var ErrBackfillStopped = errors.New("materialize: backfill stopped by a newer request")

// backfillJob is one running backfill of one or more lenses.
type backfillJob struct {
	lenses []string
	cancel context.CancelCauseFunc
	done   chan struct{}

	mu     sync.Mutex
	cursor int64 // last group id done, as committed
}

// stop cancels the job and waits until it returned.
func (j *backfillJob) stop() {
	j.cancel(ErrBackfillStopped)
	<-j.done
}

// Backfill (re)materializes the given lenses, which must be in the set, for every group,
// from scratch: the way to fill in a lens just added to the set or replaced by a new
// version, or to rebuild `resolved` whole. It walks the groups by id in chunks, calling
// each lens once per chunk; each chunk commits its rows with the backfill's cursor, so
// a backfill cut short resumes where it stopped, for the lenses still in the set: at
// once under Run if its caller gave up (ctx), else when Run next starts (after a crash)
// or the lens set next changes. Progress is in Stats().Backfills.
//
// It returns when every group is done, or with ctx's error. A Backfill of a lens that
// is already being backfilled stops the older one (whose other lenses resume on their
// own) and starts over. Groups a lens fails on are marked dirty, for Run to retry.
// Backfill shares the work lock with Run, so it can run beside it, or without it.
func (m *Materializer) Backfill(ctx context.Context, lenses ...string) error {
	if len(lenses) == 0 {
		return nil
	}
	lenses = slices.Clone(lenses)
	slices.Sort(lenses)
	lenses = slices.Compact(lenses)
	for _, l := range lenses {
		if _, ok := m.lens(l); !ok {
			return fmt.Errorf("backfill %s: %w", l, ErrUnknownLens)
		}
	}
	return m.backfill(ctx, lenses, 0, true)
}

// resumeBackfills starts, in the background, the interrupted backfills of lenses now in
// the set, grouping lenses stopped at the same cursor into one walk.
func (m *Materializer) resumeBackfills(ctx context.Context, bg *sync.WaitGroup) {
	m.mu.Lock()
	byCursor := make(map[int64][]string)
	for lens, after := range m.resume {
		if _, ok := m.lenses[lens]; ok && m.jobs[lens] == nil {
			byCursor[after] = append(byCursor[after], lens)
			delete(m.resume, lens)
		}
	}
	m.mu.Unlock()
	for after, lenses := range byCursor {
		slices.Sort(lenses)
		bg.Go(func() {
			if err := m.backfill(ctx, lenses, after, false); err != nil && ctx.Err() == nil {
				m.opts.Logger.Warn("materialize: resumed backfill stopped", "lenses", lenses, "err", err)
			}
		})
	}
}

// backfill walks the groups with ids above after for lenses; fresh records the cursors
// first (a new request rather than a resumed one).
func (m *Materializer) backfill(ctx context.Context, lenses []string, after int64, fresh bool) error {
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	job := &backfillJob{lenses: lenses, cancel: cancel, done: make(chan struct{}), cursor: after}
	defer close(job.done)

	// Take over the lenses from older jobs.
	m.mu.Lock()
	var older []*backfillJob
	for _, l := range lenses {
		if j := m.jobs[l]; j != nil && !slices.Contains(older, j) {
			older = append(older, j)
		}
		m.jobs[l] = job
		delete(m.resume, l)
	}
	m.mu.Unlock()
	for _, j := range older {
		j.stop()
	}
	if fresh {
		// Record the request before the first chunk, so that a crash before it still
		// resumes; after the older jobs stopped, so that none of them moves it again.
		err := m.db.Write(jctx, func(tx *sqlview.Tx) error {
			for _, l := range lenses {
				if err := sqlview.SetBackfillCursor(jctx, tx, l, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return m.endBackfill(job, err)
		}
	}

	total, err := sqlview.CountGroups(jctx, m.db.ReadDB(), after)
	if err != nil {
		return m.endBackfill(job, err)
	}
	m.setBackfill(lenses, func(s *BackfillStats) { *s = BackfillStats{Total: total, Running: true} })

	err = m.walk(jctx, after, func(ctx context.Context, after int64) (*prepared, error) {
		return m.prepareBackfill(ctx, lenses, after)
	}, func(ctx context.Context, p *prepared) error {
		if err := m.commitBackfill(ctx, p); err != nil {
			return err
		}
		job.mu.Lock()
		job.cursor = p.last
		job.mu.Unlock()
		m.setBackfill(lenses, func(s *BackfillStats) {
			s.Done += int64(len(p.groups))
			s.Total = max(s.Total, s.Done)
		})
		return nil
	})
	if err != nil {
		if cause := context.Cause(jctx); ctx.Err() == nil && cause != nil {
			err = cause
		}
		return m.endBackfill(job, err)
	}
	return m.endBackfill(job, nil)
}

// prepareBackfill reads the next chunk of groups above after and calls on it those of
// lenses that are still in the set. The caller holds the work lock.
func (m *Materializer) prepareBackfill(ctx context.Context, lenses []string, after int64) (*prepared, error) {
	// A lens taken out of the set meanwhile drops out of the walk; its cursor stays.
	var set []namedResolver
	for _, l := range lenses {
		if r, ok := m.lens(l); ok {
			set = append(set, namedResolver{l, r})
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("backfill %v: %w", lenses, ErrUnknownLens)
	}

	t0 := time.Now()
	tx, err := m.db.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	defer tx.Rollback()
	ids, err := sqlview.ListGroups(ctx, tx, after, m.opts.ChunkSize)
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	p := &prepared{last: after, exhausted: len(ids) < m.opts.ChunkSize}
	if len(ids) > 0 {
		p.last = ids[len(ids)-1]
	}
	if p.groups, err = sqlview.LoadGroups(ctx, tx, ids); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	if err := tx.Rollback(); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	p.stats.load = time.Since(t0)

	t1 := time.Now()
	if p.results, err = m.resolveAll(ctx, set, HostGroups(p.groups)); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	p.stats.resolve = time.Since(t1)
	return p, nil
}

// commitBackfill writes a backfill chunk's rows with the backfill's cursor (or, for the
// last chunk, its end) in one transaction.
func (m *Materializer) commitBackfill(ctx context.Context, p *prepared) error {
	t0 := time.Now()
	cs := p.stats
	failures := false
	err := m.db.Write(ctx, func(tx *sqlview.Tx) error {
		if err := writeRows(ctx, tx, p.groups, p.results, &cs); err != nil {
			return err
		}
		// A (lens, group) that failed becomes the dirty walk's to retry.
		for _, r := range p.results {
			for gi, f := range r.failed {
				if f {
					failures = true
					if err := sqlview.MarkDirty(ctx, tx, p.groups[gi].ID); err != nil {
						return err
					}
				}
			}
		}
		for _, r := range p.results {
			var err error
			if p.exhausted {
				err = sqlview.DeleteBackfillCursor(ctx, tx, r.lens)
			} else {
				err = sqlview.SetBackfillCursor(ctx, tx, r.lens, p.last)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	cs.commit = time.Since(t0)
	m.addChunkStats(cs)
	if failures {
		m.Notify() // the groups just marked dirty
	}
	return nil
}

// endBackfill records how job ended and hands its unfinished lenses that no newer job
// took over back to resumption.
func (m *Materializer) endBackfill(job *backfillJob, err error) error {
	job.mu.Lock()
	cursor := job.cursor
	job.mu.Unlock()
	m.mu.Lock()
	for _, l := range job.lenses {
		if m.jobs[l] != job {
			continue // a newer job took it over, with its own progress
		}
		delete(m.jobs, l)
		if err != nil && !errors.Is(err, ErrUnknownLens) {
			m.resume[l] = cursor
		}
		s := m.stats.Backfills[l]
		s.Running = false
		s.Finished = err == nil
		if err != nil {
			s.LastError = err.Error()
		}
		m.stats.Backfills[l] = s
	}
	m.mu.Unlock()
	if err == nil {
		return nil
	}
	// Stopped for the sake of another lens, or given up by its caller: the rest goes
	// on under Run. (Not after storage errors, which would only repeat.)
	if errors.Is(err, ErrBackfillStopped) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		select {
		case m.resumeCh <- struct{}{}:
		default:
		}
	}
	return fmt.Errorf("backfill %v: %w", job.lenses, err)
}

func (m *Materializer) setBackfill(lenses []string, f func(*BackfillStats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range lenses {
		s := m.stats.Backfills[l]
		f(&s)
		m.stats.Backfills[l] = s
	}
}
