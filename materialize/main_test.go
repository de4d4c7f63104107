package materialize_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stemedb/stemedb/host"
)

// cacheDir is one wazero compilation cache for the whole test binary: the ~2 MB
// built-in module compiles once (slowly under -race) instead of once per test.
var cacheDir string

// builtinModule is the built-in lens module, loaded once per test binary; its lenses
// are safe for concurrent use.
var builtinModule = sync.OnceValues(func() (*host.Module, error) {
	rt, err := host.NewRuntime(context.Background(), host.NewConfig().WithCompilationCacheDir(cacheDir))
	if err != nil {
		return nil, err
	}
	closeRuntime = func() { _ = rt.Close(context.Background()) }
	return rt.LoadBuiltins(context.Background())
})

var closeRuntime = func() {}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "materialize-test-cache-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	closeRuntime()
	os.RemoveAll(dir)
	os.Exit(code)
}
