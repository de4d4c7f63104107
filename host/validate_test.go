package host_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
)

func TestValidate_Refusals(t *testing.T) {
	valid := lensModule(i64Const(0))
	tests := []struct {
		name string
		wasm []byte
		with func(host.Config) host.Config
		want string // a fragment of the refusal
	}{
		{name: "not wasm", wasm: []byte("hello, world"), want: "not a WebAssembly module"},
		{name: "truncated", wasm: valid.bytes()[:40], want: "not a WebAssembly module"},
		{name: "too large", wasm: valid.bytes(), with: func(c host.Config) host.Config { return c.WithMaxModuleBytes(10) }, want: "over the 10-byte limit"},
		{name: "command module", wasm: valid.withFunc(wasmFunc{export: "_start"}).bytes(), want: "exports _start"},
		{
			name: "forbidden wasi import",
			wasm: func() []byte {
				m := valid
				m.imports = []wasmImport{{module: "wasi_snapshot_preview1", name: "path_open", params: []byte{i32}, results: []byte{i32}}}
				return m.bytes()
			}(),
			want: "wasi_snapshot_preview1.path_open: not allowed",
		},
		{
			name: "foreign namespace",
			wasm: func() []byte {
				m := valid
				m.imports = []wasmImport{{module: "env", name: "fetch"}}
				return m.bytes()
			}(),
			want: "env.fetch: only wasi_snapshot_preview1",
		},
		{name: "missing resolve", wasm: valid.withoutFunc("stemedb_resolve").bytes(), want: "missing export stemedb_resolve"},
		{name: "missing initialize", wasm: valid.withoutFunc("_initialize").bytes(), want: "missing export _initialize"},
		{name: "missing memory", wasm: func() []byte { m := valid; m.noMemory = true; m.data = nil; return m.bytes() }(), want: "missing export memory"},
		{
			name: "wrong signature",
			wasm: valid.withFunc(wasmFunc{export: "stemedb_alloc", params: []byte{i64}, results: []byte{i32}, body: i32Const(0)}).bytes(),
			want: "export stemedb_alloc has type (i64) -> (i32), want (i32) -> (i32)",
		},
		{name: "wrong ABI version", wasm: valid.withFunc(wasmFunc{export: "stemedb_abi_version", results: []byte{i32}, body: i32Const(2)}).bytes(), want: "ABI version 2"},
		{name: "memory bomb", wasm: func() []byte { m := valid; m.memMin = 60000; return m.bytes() }(), want: "minimum of 60000 pages"},
		{
			name: "start traps",
			wasm: valid.withFunc(wasmFunc{export: "_initialize", body: opUnreachable}).bytes(),
			want: "start:",
		},
		{
			name: "start loops forever",
			wasm: valid.withFunc(wasmFunc{export: "_initialize", body: opLoopForever}).bytes(),
			want: "timed out",
		},
		{
			name: "bad lens name",
			wasm: func() []byte {
				m := valid
				m.data = []dataSegment{{offset: namesAt, bytes: append(u32s(1, 5), "9lens"...)}}
				return m.bytes()
			}(),
			want: `name "9lens"`,
		},
		{
			name: "no lenses",
			wasm: func() []byte {
				m := valid
				m.data = []dataSegment{{offset: namesAt, bytes: u32s(0, 0, 0)}}
				return m.bytes()
			}(),
			want: "0 lenses",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, func(c host.Config) host.Config {
				c = c.WithCallTimeout(200 * 1e6) // 200 ms
				if tt.with != nil {
					c = tt.with(c)
				}
				return c
			})
			_, err := rt.Validate(context.Background(), tt.wasm)
			require.ErrorIs(t, err, host.ErrInvalidModule)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestValidate_Accepts(t *testing.T) {
	rt := newRuntime(t, nil)
	// The built-in module passes the same checks in LoadBuiltins (trusted); validating it
	// here too would compile 2 MB once more for nothing.
	info, err := rt.Validate(context.Background(), lensModule(i64Const(0)).bytes())
	require.NoError(t, err)
	require.Equal(t, host.ModuleInfo{ABIVersion: 1, Lenses: []string{"Fixed"}, Size: len(lensModule(i64Const(0)).bytes())}, info)
}

func TestValidLensName(t *testing.T) {
	for name, want := range map[string]bool{
		"Latest": true, "a": true, "a-b_9": true, "": false, "9a": false, "a b": false, "é": false,
		"a123456789012345678901234567890123456789012345678901234567890123":  true,
		"a1234567890123456789012345678901234567890123456789012345678901234": false,
	} {
		require.Equal(t, want, host.ValidLensName(name), name)
	}
}
