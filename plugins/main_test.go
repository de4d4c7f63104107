package plugins_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
	"github.com/stemedb/stemedb/plugins"
)

// cacheDir is one compilation cache for the whole test binary, so that each ~2 MB test
// module compiles once rather than once per test (or per registry reopen).
var cacheDir string

// shared is the runtime of every test that needs no special configuration. Modules
// stay compiled in a runtime while any handle to them is open, so TestMain pins the
// built-ins in it and the module builders below pin theirs: each registry's Load then
// skips compilation (~0.45 s under -race) and pays only for starting an instance.
var shared *host.Runtime

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "plugins-test-cache-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cacheDir = dir
	ctx := context.Background()
	shared, err = host.NewRuntime(ctx, config())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer shared.Close(ctx)
	if _, err := shared.LoadBuiltins(ctx); err != nil { // pinned until shared closes
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// config is the tests' runtime configuration. It runs wazero's interpreter: under the
// race detector the compiler spends ~7 s on each distinct 2 MB Go module (the
// interpreter ~0.5 s), and nothing the registry does depends on the engine (host's
// tests run both). TestRegistry_Compiled covers the compiler and its cache.
func config() host.Config {
	return host.NewConfig().WithCompilationCacheDir(cacheDir).WithPoolSize(2).WithInterpreter(true)
}

// newRuntime returns the shared runtime, or with with a runtime of its own (closed at
// cleanup, after the registries opened on it: cleanups run last-registered first).
func newRuntime(t testing.TB, with func(host.Config) host.Config) *host.Runtime {
	t.Helper()
	if with == nil {
		return shared
	}
	rt, err := host.NewRuntime(context.Background(), with(config()))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(context.Background())) })
	return rt
}

// open opens a registry in dir on rt, closed at cleanup.
func open(t testing.TB, dir string, rt *host.Runtime, opts plugins.Options) *plugins.Registry {
	t.Helper()
	r, err := plugins.Open(context.Background(), dir, rt, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close(context.Background())) })
	return r
}

// Test modules, each built once per test binary from testdata/<name>.
var (
	multiLens = reactor("multilens", true) // Pick, Nobody, Fragile
	soloLens  = reactor("sololens", true)  // Solo
	trapLens  = reactor("traplens", false) // Trap: fails on every input
	fsLens    = reactor("fslens", false)   // imports path_open
	envLens   = reactor("envlens", false)  // imports env.now
	abi2Lens  = reactor("abi2lens", false) // answers ABI version 2
	// commandLens is sololens built as a command (exports _start).
	commandLens = sync.OnceValues(func() ([]byte, error) { return buildCommand(filepath.Join("testdata", "sololens")) })
)

// reactor builds testdata/name once; pin keeps a valid module compiled in the shared
// runtime for the rest of the test binary.
func reactor(name string, pin bool) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		wasm, err := sdktest.Build(context.Background(), filepath.Join("testdata", name))
		if err != nil || !pin {
			return wasm, err
		}
		if _, err := shared.Load(context.Background(), wasm); err != nil {
			return nil, fmt.Errorf("pin %s: %w", name, err)
		}
		return wasm, nil
	})
}

// buildCommand builds the package in dir as a plain wasip1 program: a command module,
// which sdktest.Build (reactors only) cannot make.
func buildCommand(dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "plugins-command-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "command.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w: %s", dir, err, stderr.String())
	}
	return os.ReadFile(out)
}

// module returns a built test module or fails the test.
func module(t testing.TB, build func() ([]byte, error)) []byte {
	t.Helper()
	wasm, err := build()
	require.NoError(t, err)
	return wasm
}

// cand is a candidate with one signer, told apart by its hash's first byte.
func cand(h byte, object string, confidence float64) host.Candidate {
	var hash, agent [32]byte
	hash[0], agent[0] = h, h
	return host.Candidate{
		Hash:       hash,
		Object:     append([]byte{1, 0, 0, 0, byte(len(object))}, object...),
		Confidence: confidence,
		Signers:    []host.Signer{{Agent: agent, Timestamp: 1_700_000_000 + uint64(h), Trust: 1}},
	}
}

// testGroups are two groups where Pick (most confident), Solo (smallest hash) and
// Latest (newest signature) all disagree.
func testGroups(subject string) []host.Group {
	return []host.Group{
		{Subject: subject, Predicate: "p", Candidates: []host.Candidate{cand(3, "a", 0.5), cand(1, "b", 0.2), cand(2, "c", 0.9)}},
		{Subject: subject, Predicate: "q", Candidates: []host.Candidate{cand(9, "x", 0.1), cand(5, "y", 0.3)}},
	}
}

var (
	pickWinners   = [][]int{{2}, {1}}
	soloWinners   = [][]int{{1}, {1}}
	latestWinners = [][]int{{0}, {0}}
	nobodyWinners = [][]int{nil, nil}
)

// resolve resolves testGroups(subject) with r's live lens called name.
func resolve(t testing.TB, r *plugins.Registry, name, subject string) ([][]int, error) {
	t.Helper()
	res, _, err := r.Resolver(name)
	require.NoError(t, err)
	return res.Resolve(context.Background(), testGroups(subject))
}

// files lists the regular files under dir, relative, with "/" separators.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	}))
	return out
}

// signalled checks that a change was signalled on ch. Registry changes signal before
// the call that made them returns, so nothing needs waiting for.
func signalled(t testing.TB, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		require.True(t, ok, "subscription closed")
	default:
		t.Fatal("no change signalled")
	}
}
