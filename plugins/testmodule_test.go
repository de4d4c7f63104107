package plugins_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
)

func TestRegistry_TestModule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := open(t, dir, newRuntime(t, nil), plugins.Options{})
	ctx := context.Background()
	multi, solo := module(t, multiLens), module(t, soloLens)

	tests := []struct {
		name   string
		wasm   []byte
		lens   string
		groups []host.Group
		want   [][]int
		target error
	}{
		{name: "lens by name", wasm: multi, lens: "pick", groups: testGroups("s"), want: pickWinners},
		{name: "the only lens", wasm: solo, groups: testGroups("s"), want: soloWinners},
		{name: "the only lens, any name", wasm: solo, lens: "Whatever", groups: testGroups("s"), want: soloWinners},
		{name: "a built-in's name is fine", wasm: solo, lens: "Consensus", groups: testGroups("s"), want: soloWinners},
		{name: "no groups", wasm: solo, want: [][]int{}},
		{name: "which lens?", wasm: multi, groups: testGroups("s"), target: host.ErrInvalidModule},
		{name: "not a module", wasm: []byte("\x00asm nope"), lens: "X", target: host.ErrInvalidModule},
		{name: "the lens fails", wasm: multi, lens: "Fragile", groups: testGroups("boom"), target: host.ErrLensReported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.TestModule(ctx, tt.wasm, tt.lens, tt.groups)
			if tt.target != nil {
				require.ErrorIs(t, err, tt.target)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	require.Empty(t, files(t, dir), "a dry run stores nothing")
	require.Len(t, r.List(), 6, "nor installs anything")
}
