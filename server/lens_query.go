package server

import (
	"context"
	"errors"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/sqlview"
)

// lensViews is the query path's Views when a lens registry is configured. A lens whose
// winners are complete in `resolved` (a built-in; a materialized upload whose backfill
// finished) is read from there; any other lens in service is answered on the fly, with
// the same answer shape, order and cursors, by calling it on the matching groups'
// candidates. So an upload is usable at once, materialized or not.
//
// A failing call answers 500 lens_failed naming the lens, and is reported to the
// registry, which takes a lens that keeps failing out of service; queries through a lens
// out of service answer 500 lens_failed saying so, until the name is uploaded again.
type lensViews struct {
	Views
	fly  OnTheFlyViews
	reg  LensRegistry
	rows LensRows
}

// QueryWinners answers p from `resolved` or on the fly (see lensViews).
func (v *lensViews) QueryWinners(ctx context.Context, p sqlview.QueryParams) (sqlview.Page, error) {
	// A version retired under the call (replaced by an upload, or deleted) is not the
	// lens's fault: look the name up again, once.
	page, err := v.query(ctx, p)
	if errors.Is(err, plugins.ErrRetired) {
		page, err = v.query(ctx, p)
	}
	if errors.Is(err, plugins.ErrRetired) {
		return page, &api.Error{Code: api.CodeUnavailable, Message: "the lens was replaced during the query; retry", RetryAfter: 1}
	}
	return page, err
}

func (v *lensViews) query(ctx context.Context, p sqlview.QueryParams) (sqlview.Page, error) {
	res, info, err := v.reg.Resolver(p.Lens)
	switch {
	case errors.Is(err, plugins.ErrNotFound):
		return sqlview.Page{}, api.Errorf(api.CodeNotFound, "no lens named %q", p.Lens)
	case errors.Is(err, plugins.ErrFailed):
		return sqlview.Page{}, api.Errorf(api.CodeLensFailed,
			"lens %s is out of service: %s; upload it again to put a new version in service",
			describe(info), failedReason(info, err))
	case err != nil:
		return sqlview.Page{}, registryError(err)
	}
	if servesFromRows(info, v.rows) {
		return v.Views.QueryWinners(ctx, p)
	}
	return v.fly.QueryOnTheFly(ctx, p, v.resolveFunc(info, res))
}

// resolveFunc calls the lens on loaded groups, reporting each call's outcome to the
// registry; a failure becomes lens_failed.
func (v *lensViews) resolveFunc(info plugins.Info, res host.Resolver) sqlview.ResolveFunc {
	return func(ctx context.Context, groups []sqlview.Group) ([][]int, error) {
		winners, err := res.Resolve(ctx, materialize.HostGroups(groups))
		if err == nil {
			v.reg.ReportSuccess(info.Name)
			return winners, nil
		}
		switch {
		case callerGone(ctx, err):
			return nil, ctx.Err()
		case errors.Is(err, plugins.ErrRetired):
			return nil, err // QueryWinners looks the lens up again
		case errors.Is(err, plugins.ErrClosed):
			return nil, registryError(err) // shutting down
		}
		// The error to report is the registry's own (it names the version); a failure
		// of the report itself (the manifest write) must not hide the lens's.
		_ = v.reg.ReportFailure(info.Name, err)
		return nil, lensFailed(info.Name, info.Version, err)
	}
}

// failedReason is why a lens is out of service, from its description or the error.
func failedReason(info plugins.Info, err error) string {
	if info.LastError != "" {
		return info.LastError
	}
	return err.Error()
}
