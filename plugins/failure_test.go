package plugins_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
)

func TestRegistry_FailingLensIsMarkedFailed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	r := open(t, dir, rt, plugins.Options{MaxFailures: 3})
	ctx := context.Background()
	multi := module(t, multiLens)
	_, err := r.Upload(ctx, "Fragile", multi, true)
	require.NoError(t, err)
	res, _, err := r.Resolver("fragile")
	require.NoError(t, err)
	failures := func() int {
		info, _, err := r.Get("Fragile")
		require.NoError(t, err)
		require.Equal(t, plugins.StateLive, info.State)
		return info.Failures
	}

	// Fine on ordinary groups, fails on "boom" ones.
	got, err := res.Resolve(ctx, testGroups("fine"))
	require.NoError(t, err)
	require.Equal(t, pickWinners, got)
	_, callErr := res.Resolve(ctx, testGroups("boom"))
	var lensErr *host.LensError
	require.ErrorAs(t, callErr, &lensErr)
	require.ErrorIs(t, callErr, host.ErrLensReported)

	require.NoError(t, r.ReportFailure("fragile", callErr))
	require.NoError(t, r.ReportFailure("Fragile", callErr))
	require.Equal(t, 2, failures())
	r.ReportSuccess("FRAGILE")
	require.Equal(t, 0, failures(), "a success resets the count")

	// Failures that are not the lens's fault are not counted.
	for _, err := range []error{
		nil,
		context.Canceled,
		&host.LensError{Lens: "Fragile", Err: fmt.Errorf("resolve: %w", context.DeadlineExceeded)},
		&host.LensError{Lens: "Fragile", Err: host.ErrBadInput},
		&plugins.ResolveError{Name: "Fragile", Version: 1, Err: plugins.ErrRetired},
	} {
		require.NoError(t, r.ReportFailure("Fragile", err))
	}
	require.Equal(t, 0, failures())
	require.NoError(t, r.ReportFailure("Unknown", callErr), "names not in service are ignored")

	changed := r.Subscribe(ctx)
	for range 3 {
		require.NoError(t, r.ReportFailure("Fragile", callErr))
	}
	signalled(t, changed)
	info, versions, err := r.Get("Fragile")
	require.NoError(t, err)
	require.Equal(t, plugins.StateFailed, info.State)
	require.Equal(t, 3, info.Failures)
	require.Contains(t, info.LastError, "3 consecutive failures, the last: lens Fragile version 1:")
	require.Contains(t, info.LastError, "fragile: cannot handle boom")
	require.Equal(t, info.LastError, versions[0].Failed)
	require.NotNil(t, versions[0].FailedAt)
	require.NotContains(t, r.Materialized(), "Fragile")
	_, ok := r.Canonical("fragile")
	require.True(t, ok, "a failed lens is still known")
	_, _, err = r.Resolver("Fragile")
	require.ErrorIs(t, err, plugins.ErrFailed)
	require.ErrorContains(t, err, "lens Fragile version 1: lens failed: 3 consecutive failures")
	_, err = res.Resolve(ctx, testGroups("fine"))
	require.ErrorIs(t, err, plugins.ErrFailed, "resolvers handed out before fail too")

	// The mark survives a restart.
	require.NoError(t, r.Close(ctx))
	r = open(t, dir, rt, plugins.Options{MaxFailures: 3})
	_, _, err = r.Resolver("Fragile")
	require.ErrorIs(t, err, plugins.ErrFailed)
	require.Equal(t, plugins.StateFailed, r.List()[6].State)

	// Uploading again puts a new version in service; failures of the old one are stale.
	info, err = r.Upload(ctx, "Fragile", multi, true)
	require.NoError(t, err)
	require.Equal(t, 2, info.Version)
	require.Equal(t, plugins.StateLive, info.State)
	require.Contains(t, r.Materialized(), "Fragile")
	for range 3 {
		require.NoError(t, r.ReportFailure("Fragile", callErr), "version 1's failure")
	}
	require.Equal(t, 0, failures())
}

func TestRegistry_BuiltinsAreNeverMarkedFailed(t *testing.T) {
	t.Parallel()
	r := open(t, t.TempDir(), newRuntime(t, nil), plugins.Options{MaxFailures: 2})
	trap := &host.LensError{Lens: "Consensus", Err: host.ErrTrap}
	for range 5 {
		require.NoError(t, r.ReportFailure("consensus", trap))
	}
	info, _, err := r.Get("Consensus")
	require.NoError(t, err)
	require.Equal(t, plugins.StateLive, info.State)
	require.Equal(t, 5, info.Failures)
	require.Contains(t, r.Materialized(), "Consensus")
}
