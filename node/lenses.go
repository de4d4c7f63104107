package node

import (
	"context"
	"errors"
	"log/slog"

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
	// current maps each materialized name to the registry's resolver (compared to spot
	// new versions) and the reporting wrapper the materializer runs.
	current map[string]syncedLens
	// rows tracks whose rows in `resolved` are complete (lens_rows.go).
	rows lensRows
}

type syncedLens struct {
	orig    host.Resolver
	wrapped host.Resolver
}

func newLensSync(reg *plugins.Registry, mat *materialize.Materializer, log *slog.Logger) *lensSync {
	return &lensSync{reg: reg, mat: mat, log: log, current: map[string]syncedLens{}}
}

// apply brings the materializer up to the registry's set and returns the lenses that
// need a backfill.
func (s *lensSync) apply(ctx context.Context) (backfill []string) {
	want := s.reg.Materialized()
	next := make(map[string]syncedLens, len(want))
	set := make(map[string]host.Resolver, len(want))
	for name, r := range want {
		cur, ok := s.current[name]
		if !ok || cur.orig != r {
			cur = syncedLens{orig: r, wrapped: &reportingResolver{name: name, r: r, reg: s.reg}}
			if ok || !s.isBuiltin(name) {
				backfill = append(backfill, name)
			}
		}
		next[name] = cur
		set[name] = cur.wrapped
	}
	// Removals first: RemoveLens drops the rows only of a lens still in the set.
	for name := range s.current {
		if _, ok := next[name]; !ok {
			if err := s.mat.RemoveLens(ctx, name); err != nil && !errors.Is(err, materialize.ErrUnknownLens) {
				s.log.Error("dropping a lens's rows", "lens", name, "err", err)
			}
		}
	}
	s.mat.SetLenses(set)
	s.current = next
	s.rows.applied(next, backfill)
	return backfill
}

func (s *lensSync) isBuiltin(name string) bool {
	info, _, err := s.reg.Get(name)
	return err == nil && info.BuiltIn
}

// run follows the registry until ctx ends, backfilling in the background.
func (s *lensSync) run(ctx context.Context) error {
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
			r := s.current[name].orig
			go func() {
				// A newer backfill of the same lens (a re-upload) supersedes this one.
				err := s.mat.Backfill(ctx, name)
				if err != nil && ctx.Err() == nil && !errors.Is(err, materialize.ErrBackfillStopped) {
					s.log.Error("backfill", "lens", name, "err", err)
				}
				s.rows.backfilled(name, r, err)
			}()
		}
	}
}

// reportingResolver tells the registry how each call of a lens went, so that a lens
// that keeps failing is taken out of service.
type reportingResolver struct {
	name string
	r    host.Resolver
	reg  *plugins.Registry
}

func (rr *reportingResolver) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	res, err := rr.r.Resolve(ctx, groups)
	if err != nil {
		if rerr := rr.reg.ReportFailure(rr.name, err); rerr != nil {
			return res, errors.Join(err, rerr)
		}
		return res, err
	}
	rr.reg.ReportSuccess(rr.name)
	return res, nil
}
