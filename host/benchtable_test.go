//go:build bench

package host_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// TestBenchTable prints the lens host's numbers for `make bench`: module load with a cold
// and a warm compilation cache, starting an instance, and one Resolve of 1,000 groups of
// 1..20 candidates per built-in lens through WASM (trusted and untrusted) against the
// plain-Go reference. ratio = reference time / WASM time (1.0 = as fast as native Go).
func TestBenchTable(t *testing.T) {
	ctx := context.Background()
	row := func(name string, r testing.BenchmarkResult) {
		fmt.Printf("%-44s %12s/op %10d B/op %8d allocs/op\n", name, time.Duration(r.NsPerOp()), r.AllocedBytesPerOp(), r.AllocsPerOp())
	}
	fmt.Println("== host: lens load, instantiate, resolve (1,000 groups of 1..20 candidates)")
	row("load builtins, cold cache", testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(t.TempDir()))
			require.NoError(b, err)
			_, err = rt.LoadBuiltins(ctx)
			require.NoError(b, err)
			require.NoError(b, rt.Close(ctx))
		}
	}))
	row("load builtins, cached", testing.Benchmark(func(b *testing.B) {
		dir := t.TempDir()
		warm, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
		require.NoError(b, err)
		_, err = warm.LoadBuiltins(ctx)
		require.NoError(b, err)
		require.NoError(b, warm.Close(ctx))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
			require.NoError(b, err)
			_, err = rt.LoadBuiltins(ctx)
			require.NoError(b, err)
			require.NoError(b, rt.Close(ctx))
		}
	}))

	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithPoolSize(1).WithRecycleAbovePages(1) })
	fresh, err := loadBuiltins(t, rt).Lens("Latest")
	require.NoError(t, err)
	row("instantiate + 1-group call", testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := fresh.Resolve(ctx, oneGroup(1)); err != nil {
				b.Fatal(err)
			}
		}
	}))

	groups := benchGroups()
	rt = newRuntime(t, nil)
	trusted := loadBuiltins(t, rt)
	untrusted, err := rt.Load(ctx, lenseswasm.Builtins())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, untrusted.Close(ctx)) })
	resolve := func(r host.Resolver) testing.BenchmarkResult {
		_, err := r.Resolve(ctx, groups)
		require.NoError(t, err)
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := r.Resolve(ctx, groups); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, name := range host.BuiltinNames() {
		ref, err := lensref.New(name)
		require.NoError(t, err)
		tl, err := trusted.Lens(name)
		require.NoError(t, err)
		ul, err := untrusted.Lens(name)
		require.NoError(t, err)
		rr, tr, ur := resolve(ref), resolve(tl), resolve(ul)
		row("resolve "+name+" ref (Go)", rr)
		row("resolve "+name+" wasm (trusted)", tr)
		row("resolve "+name+" wasm (untrusted)", ur)
		fmt.Printf("%-44s %.2f trusted, %.2f untrusted\n", "ratio "+name+" ref/wasm", float64(rr.NsPerOp())/float64(tr.NsPerOp()), float64(rr.NsPerOp())/float64(ur.NsPerOp()))
	}
}
