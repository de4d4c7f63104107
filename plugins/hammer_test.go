package plugins_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/plugins"
)

// TestRegistry_Hammer resolves through the materialized set while another goroutine
// uploads new versions and deletes, and a third reads the listings: under -race this
// checks the locking, and every call either answers correctly or fails with ErrRetired
// (its version was replaced under it), never anything else.
func TestRegistry_Hammer(t *testing.T) {
	t.Parallel()
	r := open(t, t.TempDir(), newRuntime(t, nil), plugins.Options{})
	ctx := context.Background()
	multi, solo := module(t, multiLens), module(t, soloLens)
	_, err := r.Upload(ctx, "Pick", multi, true)
	require.NoError(t, err)

	var wg sync.WaitGroup
	done := make(chan struct{})
	var resolveErr error
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			for name, res := range r.Materialized() {
				if name != "Pick" {
					continue // each built-in would start an instance: slow, and not the point
				}
				got, err := res.Resolve(ctx, testGroups("s"))
				switch {
				case errors.Is(err, plugins.ErrRetired):
				case err != nil:
					resolveErr = err
					return
				case name == "Pick" && !equal(got, pickWinners) && !equal(got, soloWinners):
					resolveErr = errors.New("wrong winners")
					return
				}
				_ = r.ReportFailure(name, err)
			}
		}
	})
	wg.Go(func() {
		for range 200 { // bounded: a spinning reader would starve the uploads of CPU
			select {
			case <-done:
				return
			default:
			}
			for _, info := range r.List() {
				_, _, _ = r.Get(info.Name)
				_, _ = r.Canonical(info.Name)
			}
		}
	})
	for _, wasm := range [][]byte{solo, multi} {
		_, err := r.Upload(ctx, "Pick", wasm, true)
		require.NoError(t, err)
	}
	require.NoError(t, r.Delete(ctx, "Pick"))
	close(done)
	wg.Wait()
	require.NoError(t, resolveErr)
	_, versions, err := r.Get("Pick")
	require.ErrorIs(t, err, plugins.ErrNotFound)
	require.Nil(t, versions)
}

func equal(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
