package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
)

// cacheDir is one compilation cache for the whole test binary, so that the ~2 MB Go
// modules compile once rather than once per test.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "host-test-cache-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newRuntime starts a runtime on the shared cache, configured by with, closed at cleanup.
func newRuntime(t testing.TB, with func(host.Config) host.Config) *host.Runtime {
	t.Helper()
	cfg := host.NewConfig().WithCompilationCacheDir(cacheDir)
	if with != nil {
		cfg = with(cfg)
	}
	rt, err := host.NewRuntime(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(context.Background())) })
	return rt
}

// badLens builds testdata/badlens once per test binary.
var badLens = sync.OnceValues(func() ([]byte, error) {
	return sdktest.Build(context.Background(), filepath.Join("testdata", "badlens"))
})

func badLensModule(t testing.TB) []byte {
	t.Helper()
	wasm, err := badLens()
	require.NoError(t, err)
	return wasm
}
