package sdktest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// Native runs rule on groups without WASM, through the same encoding, SDK checks and
// host decoding a deployed lens goes through. It is the quick test of a rule.
func Native(rule sdk.Rule, groups []host.Group) ([][]int, error) {
	in, err := host.EncodeInput(groups)
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	var r sdk.Resolver
	out := r.Resolve(rule, in)
	res, err := host.DecodeOutput(out, groups)
	if err != nil {
		return nil, fmt.Errorf("native: %w", err)
	}
	return res, nil
}

// Build compiles the lens package in dir (a main package that registers its lenses in
// init) into a reactor module and returns its bytes. It needs the go command.
func Build(ctx context.Context, dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "sdktest-build-*")
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "lens.wasm")
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w: %s", dir, err, stderr.String())
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return wasm, nil
}

// Resolve validates wasm as the server validates an upload, then runs its lens called
// lens on groups, under the default limits (cfg, when given, replaces them).
func Resolve(ctx context.Context, wasm []byte, lens string, groups []host.Group, cfg ...host.Config) ([][]int, error) {
	c := host.NewConfig()
	if len(cfg) > 0 {
		c = cfg[0]
	}
	rt, err := host.NewRuntime(ctx, c)
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	m, err := rt.Load(ctx, wasm)
	if err != nil {
		return nil, err
	}
	l, err := m.Lens(lens)
	if err != nil {
		return nil, err
	}
	return l.Resolve(ctx, groups)
}
