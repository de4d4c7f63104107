package plugins_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
)

// TestRegistry_UploadRefusals uploads one bad module or name per case into one registry
// and checks the reason, then that nothing of any of them reached the disk.
func TestRegistry_UploadRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := open(t, dir, newRuntime(t, nil), plugins.Options{MaxModuleBytes: 4 << 20})
	multi := module(t, multiLens)
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name   string // the upload name
		wasm   func(t testing.TB) []byte
		target error
		want   string // a fragment of the reason
	}{
		{name: "Truncated", wasm: func(testing.TB) []byte { return multi[:len(multi)/2] }, target: host.ErrInvalidModule, want: "not a WebAssembly module"},
		{name: "Random", wasm: func(testing.TB) []byte { return random }, target: host.ErrInvalidModule, want: "not a WebAssembly module"},
		{name: "Empty", wasm: func(testing.TB) []byte { return nil }, target: host.ErrInvalidModule, want: "not a WebAssembly module"},
		{name: "Command", wasm: func(t testing.TB) []byte { return module(t, commandLens) }, target: host.ErrInvalidModule, want: "exports _start: a lens must be a reactor"},
		{name: "Snoop", wasm: func(t testing.TB) []byte { return module(t, fsLens) }, target: host.ErrInvalidModule, want: "imports wasi_snapshot_preview1.path_open: not allowed in a lens"},
		{name: "Clock", wasm: func(t testing.TB) []byte { return module(t, envLens) }, target: host.ErrInvalidModule, want: "imports env.now: only wasi_snapshot_preview1 functions are allowed"},
		{name: "Future", wasm: func(t testing.TB) []byte { return module(t, abi2Lens) }, target: host.ErrInvalidModule, want: "ABI version 2, this host speaks 1"},
		{name: "Big", wasm: func(testing.TB) []byte { return make([]byte, 4<<20+1) }, target: host.ErrInvalidModule, want: "4194305 bytes, over the 4194304-byte limit"},
		{name: "Trap", wasm: func(t testing.TB) []byte { return module(t, trapLens) }, target: host.ErrInvalidModule, want: "lens Trap fails on a sample of 4 ordinary groups"},
		{name: "Other", wasm: func(testing.TB) []byte { return multi }, target: host.ErrInvalidModule, want: `the module holds 3 lenses (Pick, Nobody, Fragile) and none is called "Other"`},
		{name: "consensus", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrBuiltin, want: "taken by a built-in lens"},
		{name: "LATEST", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrBuiltin},
		{name: "", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName, want: "want [A-Za-z][A-Za-z0-9_-]{0,63}"},
		{name: "9lives", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName},
		{name: "two words", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName},
		{name: "Pick.v2", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName},
		{name: "Écrit", wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName},
		{name: "P" + strings.Repeat("x", 64), wasm: func(testing.TB) []byte { return multi }, target: plugins.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Upload(context.Background(), tt.name, tt.wasm(t), true)
			require.ErrorIs(t, err, tt.target)
			require.ErrorContains(t, err, tt.want)
		})
	}
	require.Len(t, r.List(), 6)
	require.Empty(t, files(t, dir), "a refused upload leaves nothing")
}
