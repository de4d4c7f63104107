package node

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/plugins"
)

// lensSync keeps the materializer's lens set equal to the registry's materialized set:
// a new or re-uploaded lens is backfilled over every group, a deleted one's rows go.
type lensSync struct {
	reg *plugins.Registry
	mat *materialize.Materializer
	log *slog.Logger
	// current maps each materialized name to the registry's resolver the materializer
	// runs (compared to spot new versions).
	current map[string]host.Resolver
	// rows tracks whose rows in `resolved` are complete (lens_rows.go).
	rows lensRows
}

func newLensSync(reg *plugins.Registry, mat *materialize.Materializer, log *slog.Logger) *lensSync {
	return &lensSync{reg: reg, mat: mat, log: log, current: map[string]host.Resolver{}}
}

// apply brings the materializer up to the registry's set and returns the lenses that
// need a backfill.
func (s *lensSync) apply(ctx context.Context) (backfill []string) {
	want := s.reg.Materialized()
	for name, r := range want {
		if cur, ok := s.current[name]; !ok || cur != r {
			if ok || !s.isBuiltin(name) {
				backfill = append(backfill, name)
			}
		}
	}
	next := want
	// Removals first: RemoveLens drops the rows only of a lens still in the set.
	for name := range s.current {
		if _, ok := next[name]; !ok {
			if err := s.mat.RemoveLens(ctx, name); err != nil && !errors.Is(err, materialize.ErrUnknownLens) {
				s.log.Error("dropping a lens's rows", "lens", name, "err", err)
			}
		}
	}
	s.mat.SetLenses(next)
	s.current = next
	s.rows.applied(next, backfill)
	return backfill
}

// isBuiltin reports whether name (canonical, as the registry hands it out) is a built-in,
// whose rows the materializer keeps up to date from the start.
func (s *lensSync) isBuiltin(name string) bool { return slices.Contains(host.BuiltinNames(), name) }

// run follows the registry until ctx ends, backfilling in the background.
func (s *lensSync) run(ctx context.Context) error {
	// The backfills end with ctx; run waits for them, so that none touches the views or
	// the lenses after the node closes them.
	var backfills sync.WaitGroup
	defer backfills.Wait()
	changes := s.reg.Subscribe(ctx)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-changes:
			if !ok {
				return ctx.Err()
			}
		}
		for _, name := range s.apply(ctx) {
			r := s.current[name]
			backfills.Go(func() {
				// A newer backfill of the same lens (a re-upload) supersedes this one.
				err := s.mat.Backfill(ctx, name)
				if err != nil && ctx.Err() == nil && !errors.Is(err, materialize.ErrBackfillStopped) {
					s.log.Error("backfill", "lens", name, "err", err)
				}
				s.rows.backfilled(name, r, err)
			})
		}
	}
}

// reportOutcome tells the registry how a materialized lens did on a chunk, so that a
// lens that keeps failing is taken out of service (materialize.Options.OnLensOutcome).
func reportOutcome(reg *plugins.Registry, log *slog.Logger) func(string, error) {
	return func(lens string, err error) {
		if err == nil {
			reg.ReportSuccess(lens)
			return
		}
		if rerr := reg.ReportFailure(lens, err); rerr != nil {
			log.Error("recording a lens failure", "lens", lens, "err", rerr)
		}
	}
}
