package plugins_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
)

// TestRegistry_Compiled runs the registry as the server does: wazero's compiler with an
// on-disk compilation cache, across a restart on a fresh runtime (a new process), whose
// lazy loads come from the cache. The other tests use the interpreter (see config).
func TestRegistry_Compiled(t *testing.T) {
	t.Parallel() // compiling is the slow part; let the interpreter tests run meanwhile
	ctx := context.Background()
	dir := t.TempDir()
	compiler := func(c host.Config) host.Config { return c.WithInterpreter(false) }
	solo := module(t, soloLens)

	r, err := plugins.Open(ctx, dir, newRuntime(t, compiler), plugins.Options{})
	require.NoError(t, err)
	_, err = r.Upload(ctx, "Solo", solo, true)
	require.NoError(t, err)
	require.NoError(t, r.Close(ctx))

	r = open(t, dir, newRuntime(t, compiler), plugins.Options{})
	got, err := resolve(t, r, "solo", "s")
	require.NoError(t, err)
	require.Equal(t, soloWinners, got)
}
