package materialize

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/sqlview"
)

// namedResolver is one lens of a chunk's snapshot of the set.
type namedResolver struct {
	name string
	r    host.Resolver
}

// SetLenses makes lenses (canonical name -> resolver) the set of materialized lenses,
// replacing the previous set; the map is copied. Chunks that start afterwards use the
// new set; a chunk already running finishes with the old one. The lenses of a chunk
// are called in parallel on the same groups, which they must not modify.
//
// A lens that is new to the set, or whose resolver changed (a new version), has rows
// only for the groups that become dirty from now on: call Backfill for it. A lens left
// out keeps its rows, frozen; RemoveLens drops them. Groups held back by a lens failure
// are retried at once, since the failing lens may be the one that changed.
func (m *Materializer) SetLenses(lenses map[string]host.Resolver) {
	m.mu.Lock()
	m.lenses = maps.Clone(lenses)
	m.lensGen++
	m.mu.Unlock()
	// Interrupted backfills of lenses now in the set can resume.
	select {
	case m.resumeCh <- struct{}{}:
	default:
	}
	m.Notify()
}

// Lenses returns the names of the materialized lenses, sorted.
func (m *Materializer) Lenses() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.lenses))
}

// snapshot returns the lens set, sorted by name, and its generation.
func (m *Materializer) snapshot() ([]namedResolver, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]namedResolver, 0, len(m.lenses))
	for _, name := range slices.Sorted(maps.Keys(m.lenses)) {
		out = append(out, namedResolver{name, m.lenses[name]})
	}
	return out, m.lensGen
}

// lens returns the resolver of name, if it is in the set.
func (m *Materializer) lens(name string) (host.Resolver, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.lenses[name]
	return r, ok
}

// RemoveLens takes name out of the set and deletes its `resolved` rows and any
// unfinished backfill of it, in one transaction, after the chunk in progress (so that
// no chunk of the old set writes rows for it afterwards). A backfill of it in progress
// is stopped first.
func (m *Materializer) RemoveLens(ctx context.Context, name string) error {
	m.mu.Lock()
	_, ok := m.lenses[name]
	delete(m.lenses, name)
	m.lensGen++
	job := m.jobs[name]
	delete(m.jobs, name) // so that the stopped job hands only its other lenses back
	delete(m.resume, name)
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("remove lens %s: %w", name, ErrUnknownLens)
	}
	if job != nil {
		job.stop()
	}

	m.lockWork()
	defer m.work.Unlock()
	err := m.db.Write(ctx, func(tx *sqlview.Tx) error {
		if err := sqlview.DeleteResolved(ctx, tx, name); err != nil {
			return err
		}
		return sqlview.DeleteBackfillCursor(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("remove lens %s: %w", name, err)
	}
	m.mu.Lock()
	delete(m.stats.Backfills, name)
	m.mu.Unlock()
	m.Notify() // groups held back by this lens can now clear
	return nil
}
