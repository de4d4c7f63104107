package host_test

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// BenchmarkLoad measures loading the built-in module (compile, validation, one probe
// instance) with an empty compilation cache and with a warm one.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(lenseswasm.Builtins())))
		for b.Loop() {
			dir, err := os.MkdirTemp("", "bench-cold-*")
			require.NoError(b, err)
			rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
			require.NoError(b, err)
			_, err = rt.LoadBuiltins(ctx)
			require.NoError(b, err)
			require.NoError(b, rt.Close(ctx))
			require.NoError(b, os.RemoveAll(dir))
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		warm, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
		require.NoError(b, err)
		_, err = warm.LoadBuiltins(ctx)
		require.NoError(b, err)
		require.NoError(b, warm.Close(ctx))
		b.ReportAllocs()
		b.SetBytes(int64(len(lenseswasm.Builtins())))
		for b.Loop() {
			rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
			require.NoError(b, err)
			_, err = rt.LoadBuiltins(ctx)
			require.NoError(b, err)
			require.NoError(b, rt.Close(ctx))
		}
	})
}

// benchGroups is the benchmark batch: 1,000 groups of 1..20 candidates.
func benchGroups() []host.Group {
	rng := rand.New(rand.NewPCG(2024, 1))
	var groups []host.Group
	for len(groups) < 1000 {
		for _, g := range lensref.RandomGroups(rng, 1000, 20) {
			if len(g.Candidates) > 0 && len(groups) < 1000 {
				groups = append(groups, g)
			}
		}
	}
	return groups
}

// BenchmarkResolve compares, per built-in lens, one Resolve of 1,000 groups through the
// WASM module (trusted, as the server runs built-ins; and untrusted, as an upload would
// run) with the plain-Go reference. End to end: encoding, the call, decoding.
func BenchmarkResolve(b *testing.B) {
	ctx := context.Background()
	groups := benchGroups()
	input, err := host.EncodeInput(groups)
	require.NoError(b, err)
	rt := newRuntime(b, nil)
	trusted := loadBuiltins(b, rt)
	untrusted, err := rt.Load(ctx, lenseswasm.Builtins())
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, untrusted.Close(ctx)) })

	for _, name := range host.BuiltinNames() {
		ref, err := lensref.New(name)
		require.NoError(b, err)
		tl, err := trusted.Lens(name)
		require.NoError(b, err)
		ul, err := untrusted.Lens(name)
		require.NoError(b, err)
		for _, r := range []struct {
			kind string
			res  host.Resolver
		}{{"wasm", tl}, {"wasm-untrusted", ul}, {"ref", ref}} {
			b.Run(name+"/"+r.kind, func(b *testing.B) {
				_, err := r.res.Resolve(ctx, groups) // start the instance outside the timing
				require.NoError(b, err)
				b.ReportAllocs()
				b.SetBytes(int64(len(input)))
				for b.Loop() {
					if _, err := r.res.Resolve(ctx, groups); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
