package plugins_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
)

// TestOpen_SweepsLeftovers: what a crash can leave (temp files of unfinished writes, a
// module stored before a manifest that never named it) is removed; files the registry
// did not name are not.
func TestOpen_SweepsLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rt := newRuntime(t, nil)
	ctx := context.Background()
	r, err := plugins.Open(ctx, dir, rt, plugins.Options{})
	require.NoError(t, err)
	info, err := r.Upload(ctx, "Pick", module(t, multiLens), true)
	require.NoError(t, err)
	require.NoError(t, r.Close(ctx))

	orphan := strings.Repeat("ab", 32)
	for name, data := range map[string]string{
		"modules/" + orphan + ".wasm":                  "an upload that crashed before its manifest",
		"modules/.tmp-" + orphan + ".wasm-123":         "half a module",
		".tmp-manifest.json-456":                       `{"format": 1, "lens`,
		"modules/README":                               "not the registry's",
		"modules/" + strings.ToUpper(orphan) + ".wasm": "not a name the registry writes",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	r = open(t, dir, rt, plugins.Options{})
	require.ElementsMatch(t, []string{
		"manifest.json", "modules/" + info.Hash + ".wasm", "modules/README", "modules/" + strings.ToUpper(orphan) + ".wasm",
	}, files(t, dir))
	got, err := resolve(t, r, "Pick", "s")
	require.NoError(t, err)
	require.Equal(t, pickWinners, got)
}

// TestOpen_CorruptManifest: a manifest the registry cannot fully read stops Open; it is
// never taken for an empty registry, which would lose every upload.
func TestOpen_CorruptManifest(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t, nil)
	ctx := context.Background()
	base := t.TempDir()
	r, err := plugins.Open(ctx, base, rt, plugins.Options{})
	require.NoError(t, err)
	_, err = r.Upload(ctx, "Pick", module(t, multiLens), true)
	require.NoError(t, err)
	require.NoError(t, r.Close(ctx))
	good, err := os.ReadFile(filepath.Join(base, "manifest.json"))
	require.NoError(t, err)

	for name, corrupt := range map[string]func(string) string{
		"truncated":       func(s string) string { return s[:len(s)/2] },
		"empty":           func(string) string { return "" },
		"not an object":   func(string) string { return "[]" },
		"trailing data":   func(s string) string { return s + "{}" },
		"unknown field":   func(s string) string { return strings.Replace(s, `"live"`, `"color": "red", "live"`, 1) },
		"future format":   func(s string) string { return strings.Replace(s, `"format": 1`, `"format": 2`, 1) },
		"live past end":   func(s string) string { return strings.Replace(s, `"live": 1`, `"live": 2`, 1) },
		"bad hash":        func(s string) string { return strings.Replace(s, `"hash": "`, `"hash": "X`, 1) },
		"built-in's name": func(s string) string { return strings.Replace(s, `"name": "Pick"`, `"name": "latest"`, 1) },
		"invalid name":    func(s string) string { return strings.Replace(s, `"name": "Pick"`, `"name": "1Pick"`, 1) },
		"version gap":     func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "modules"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(corrupt(string(good))), 0o644))
			_, err := plugins.Open(ctx, dir, rt, plugins.Options{})
			require.ErrorIs(t, err, plugins.ErrCorrupt)
		})
	}
}

// TestRegistry_UnloadableModule: a live version whose module file is damaged or gone is
// out of service with the reason at once; one the host keeps refusing (here: it cannot
// start within the call timeout), after Options.MaxFailures tries. Both are in memory
// only: once the cause is fixed, a restart serves the lens again without an upload.
func TestRegistry_UnloadableModule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wasm := module(t, multiLens)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string) *host.Runtime // returns the runtime to reopen on
		tries  int                                           // failed calls before ErrFailed
	}{
		{name: "damaged", damage: func(t *testing.T, path string) *host.Runtime {
			require.NoError(t, os.WriteFile(path, wasm[:1000], 0o644))
			return newRuntime(t, nil)
		}},
		{name: "missing", damage: func(t *testing.T, path string) *host.Runtime {
			require.NoError(t, os.Remove(path))
			return newRuntime(t, nil)
		}},
		{name: "refused by the host", tries: 2, damage: func(t *testing.T, path string) *host.Runtime {
			return newRuntime(t, func(c host.Config) host.Config { return c.WithCallTimeout(time.Nanosecond) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := plugins.Options{MaxFailures: 2}
			r, err := plugins.Open(ctx, dir, newRuntime(t, nil), opts)
			require.NoError(t, err)
			info, err := r.Upload(ctx, "Pick", wasm, true)
			require.NoError(t, err)
			require.NoError(t, r.Close(ctx))
			path := filepath.Join(dir, "modules", info.Hash+".wasm")
			rt := tt.damage(t, path)

			r, err = plugins.Open(ctx, dir, rt, opts)
			require.NoError(t, err)
			res, _, err := r.Resolver("Pick")
			require.NoError(t, err, "modules load on first use")
			changed := r.Subscribe(ctx)
			for range tt.tries {
				_, err = res.Resolve(ctx, testGroups("s"))
				require.ErrorIs(t, err, host.ErrInvalidModule)
			}
			_, err = res.Resolve(ctx, testGroups("s"))
			require.ErrorIs(t, err, plugins.ErrFailed)
			signalled(t, changed)
			_, _, err = r.Resolver("Pick")
			require.ErrorIs(t, err, plugins.ErrFailed)
			require.Equal(t, plugins.StateFailed, r.List()[6].State)
			require.NotContains(t, r.Materialized(), "Pick")
			require.NoError(t, r.Close(ctx))

			require.NoError(t, os.WriteFile(path, wasm, 0o644))
			r = open(t, dir, newRuntime(t, nil), opts)
			got, err := resolve(t, r, "Pick", "s")
			require.NoError(t, err)
			require.Equal(t, pickWinners, got)
		})
	}
}
