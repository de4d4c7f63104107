package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/sqlview"
)

// lensRows tracks, for lensSync, whether `resolved` holds the winners of each
// materialized lens's live version for every group: the query path reads the rows only
// then (server.LensRows), and answers on the fly meanwhile. A lens's rows are complete
// once the materializer's set holds its live version and no backfill of that version is
// outstanding. Built-ins are never backfilled: their rows follow the log from the start.
type lensRows struct {
	mu sync.Mutex
	// set is the registry resolver of each lens in the materializer's set, as lensSync
	// last applied it: until it equals the registry's live one, the rows are another
	// version's (or none).
	set map[string]host.Resolver
	// building holds the lenses with a backfill outstanding, by name.
	building map[string]backfillRun
}

// backfillRun is a backfill of one version of a lens.
type backfillRun struct {
	r host.Resolver
	// handedOff: the backfill call lensSync made ended without finishing (stopped, or a
	// storage error); the materializer resumes it by itself from its durable cursor, and
	// its Stats say when that finishes.
	handedOff bool
}

var _ server.LensRows = (*lensSync)(nil)

// applied records the set lensSync just gave the materializer and the lenses it is about
// to backfill.
func (lr *lensRows) applied(next map[string]host.Resolver, backfill []string) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.set = make(map[string]host.Resolver, len(next))
	for name, sl := range next {
		lr.set[name] = sl
	}
	if lr.building == nil {
		lr.building = map[string]backfillRun{}
	}
	for name := range lr.building {
		if _, ok := next[name]; !ok {
			delete(lr.building, name) // deleted, failed, or no longer materialized
		}
	}
	for _, name := range backfill {
		lr.building[name] = backfillRun{r: next[name]}
	}
}

// backfilled records how lensSync's backfill of r (name's version) ended.
func (lr *lensRows) backfilled(name string, r host.Resolver, err error) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	b, ok := lr.building[name]
	if !ok || b.r != r {
		return // a newer version took over
	}
	if err == nil {
		delete(lr.building, name)
		return
	}
	b.handedOff = true
	lr.building[name] = b
}

// start applies the registry's set to the materializer when the node opens. The uploads
// it finds are not backfilled again: their rows are from before the restart, and an
// interrupted backfill (one with a durable cursor) resumes by itself; until it finishes,
// their queries are answered on the fly.
//
// An upload records its backfill's cursor before it installs the version
// (recordedUploads), so one whose backfill had not started when the process stopped
// resumes too. Not covered: a power cut that loses that record (the views commit with
// synchronous=NORMAL) while the registry keeps the upload; closing it needs the module
// hash a lens's rows were built with stored with the rows.
func (s *lensSync) start(ctx context.Context, views *sqlview.DB) error {
	uploads := s.apply(ctx)
	cursors, err := sqlview.BackfillCursors(ctx, views.ReadDB())
	if err != nil {
		return fmt.Errorf("start lens sync: %w", err)
	}
	s.rows.mu.Lock()
	defer s.rows.mu.Unlock()
	for _, name := range uploads {
		if _, ok := cursors[name]; ok {
			b := s.rows.building[name]
			b.handedOff = true
			s.rows.building[name] = b
		} else {
			delete(s.rows.building, name)
		}
	}
	return nil
}

// Complete implements server.LensRows.
func (s *lensSync) Complete(name string) bool {
	live, info, err := s.reg.Resolver(name)
	if err != nil || !info.Materialized {
		return false
	}
	s.rows.mu.Lock()
	defer s.rows.mu.Unlock()
	if s.rows.set[name] != live {
		return false
	}
	b, ok := s.rows.building[name]
	switch {
	case !ok:
		return true
	case b.r != live || !b.handedOff:
		return false
	}
	if st, ok := s.mat.Stats().Backfills[name]; ok && st.Finished && !st.Running {
		delete(s.rows.building, name)
		return true
	}
	return false
}

// Progress implements server.LensRows.
func (s *lensSync) Progress(name string) (*api.BackfillStatus, int64) {
	st := s.mat.Stats()
	var out *api.BackfillStatus
	if bf, ok := st.Backfills[name]; ok {
		out = &api.BackfillStatus{Done: bf.Done, Total: bf.Total, Running: bf.Running, Finished: bf.Finished, Error: bf.LastError}
	}
	return out, int64(st.Lenses[name].Failures)
}
