package host

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ModuleInfo describes a module that passed validation.
type ModuleInfo struct {
	ABIVersion uint32
	Lenses     []string // lens names in module order (the index stemedb_resolve takes)
	Size       int      // bytes of the binary
}

// Validate checks an untrusted lens module without keeping it, as an upload handler
// would: every refusal wraps ErrInvalidModule and says which rule failed. The rules:
//   - at most the configured size, and a WebAssembly binary the compiler accepts;
//   - imports only functions of wasi_snapshot_preview1 on the allow-list (no file
//     system, sockets or other namespaces; no imported memory, table or global);
//   - a reactor: _start refused, _initialize required;
//   - exports memory and the ABI functions with their exact signatures;
//   - a declared memory minimum within the memory limit;
//   - starts within the call timeout, answers stemedb_abi_version with a version this
//     host speaks, and lists 1..64 lenses with valid, distinct names.
func (r *Runtime) Validate(ctx context.Context, wasm []byte) (ModuleInfo, error) {
	m, err := r.load(ctx, r.untrusted, wasm)
	if err != nil {
		return ModuleInfo{}, err
	}
	info := m.Info()
	return info, m.Close(ctx)
}

// checkShape applies the rules that need only the binary's sections.
func (r *Runtime) checkShape(wasm []byte) error {
	if len(wasm) > r.cfg.maxModuleBytes {
		return invalidModule("%d bytes, over the %d-byte limit", len(wasm), r.cfg.maxModuleBytes)
	}
	shape, err := scanModule(wasm)
	if err != nil {
		return invalidModule("not a WebAssembly module: %v", err)
	}
	for _, im := range shape.imports {
		switch {
		case im.kind != kindFunc:
			return invalidModule("imports %s %s.%s: a lens may import only functions", kindName(im.kind), im.module, im.name)
		case im.module != wasiModule:
			return invalidModule("imports %s.%s: only %s functions are allowed", im.module, im.name, wasiModule)
		case !allowedImport(im.name):
			return invalidModule("imports %s.%s: not allowed in a lens (no file system, network or other host access)", im.module, im.name)
		}
	}
	if _, ok := shape.exports[exportStart]; ok {
		return invalidModule("exports _start: a lens must be a reactor (build with -buildmode=c-shared)")
	}
	required := []struct {
		name string
		kind byte
	}{
		{exportMemory, kindMemory}, {exportInitialize, kindFunc}, {exportABIVersion, kindFunc},
		{exportLenses, kindFunc}, {exportAlloc, kindFunc}, {exportResolve, kindFunc},
	}
	for _, req := range required {
		kind, ok := shape.exports[req.name]
		if !ok {
			return invalidModule("missing export %s (%s)", req.name, kindName(req.kind))
		}
		if kind != req.kind {
			return invalidModule("export %s is a %s, want a %s", req.name, kindName(kind), kindName(req.kind))
		}
	}
	for _, minPages := range shape.memoryMins {
		if minPages > uint64(r.cfg.memoryLimitPages) {
			return invalidModule("memory declares a minimum of %d pages, over the limit of %d", minPages, r.cfg.memoryLimitPages)
		}
	}
	return nil
}

// checkSignatures checks the exported functions' types on the compiled module.
func checkSignatures(compiled wazero.CompiledModule) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := map[string][2][]api.ValueType{
		exportInitialize: {nil, nil},
		exportABIVersion: {nil, {i32}},
		exportLenses:     {nil, {i64}},
		exportAlloc:      {{i32}, {i32}},
		exportResolve:    {{i32, i32, i32}, {i64}},
	}
	fns := compiled.ExportedFunctions()
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names) // report the same export first every time
	for _, name := range names {
		fn := fns[name]
		w := want[name]
		if fn == nil {
			return invalidModule("missing export %s", name)
		}
		if !sameTypes(fn.ParamTypes(), w[0]) || !sameTypes(fn.ResultTypes(), w[1]) {
			return invalidModule("export %s has type %s, want %s", name, signature(fn.ParamTypes(), fn.ResultTypes()), signature(w[0], w[1]))
		}
	}
	return nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// probe starts one instance and asks for the ABI version and the lens names.
func (r *Runtime) probe(ctx context.Context, e *engine, compiled wazero.CompiledModule) ([]string, uint32, error) {
	if !e.trusted {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.callTimeout)
		defer cancel()
	}
	in, err := instantiate(ctx, e, compiled, r.cfg.memoryLimitPages)
	if err != nil {
		return nil, 0, invalidModule("start: %v", err)
	}
	defer in.close(ctx)
	res, err := in.mod.ExportedFunction(exportABIVersion).Call(ctx)
	if err != nil {
		return nil, 0, invalidModule("%s: %v", exportABIVersion, in.explain(ctx, err, exportABIVersion))
	}
	if v := uint32(res[0]); v != ABIVersion {
		return nil, v, invalidModule("ABI version %d, this host speaks %d", v, ABIVersion)
	}
	res, err = in.mod.ExportedFunction(exportLenses).Call(ctx)
	if err != nil {
		return nil, 0, invalidModule("%s: %v", exportLenses, in.explain(ctx, err, exportLenses))
	}
	table, ok := in.mem.Read(uint32(res[0]>>32), uint32(res[0]))
	if !ok {
		return nil, 0, invalidModule("%s: region outside memory", exportLenses)
	}
	names, err := parseLensNames(table)
	if err != nil {
		return nil, 0, invalidModule("%s: %v", exportLenses, err)
	}
	return names, ABIVersion, nil
}

// maxLenses bounds the lenses of one module.
const maxLenses = 64

// parseLensNames reads the lens-name table: u32 count, then per lens u32 length + name.
func parseLensNames(b []byte) ([]string, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("name table of %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || n > maxLenses {
		return nil, fmt.Errorf("%d lenses, want 1..%d", n, maxLenses)
	}
	b = b[4:]
	names := make([]string, 0, n)
	for i := uint32(0); i < n; i++ {
		if len(b) < 4 || uint64(binary.LittleEndian.Uint32(b)) > uint64(len(b)-4) {
			return nil, fmt.Errorf("name %d: truncated", i)
		}
		l := binary.LittleEndian.Uint32(b)
		name := string(b[4 : 4+l])
		b = b[4+l:]
		if !ValidLensName(name) {
			return nil, fmt.Errorf("name %q: want [A-Za-z][A-Za-z0-9_-]{0,63}", sanitize([]byte(name)))
		}
		for _, prev := range names {
			if strings.EqualFold(prev, name) {
				return nil, fmt.Errorf("names %q and %q differ only in case", prev, name)
			}
		}
		names = append(names, name)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last name", len(b))
	}
	return names, nil
}

// ValidLensName reports whether name follows the lens name syntax of API.md §5:
// [A-Za-z][A-Za-z0-9_-]{0,63}.
func ValidLensName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if i == 0 && !letter {
			return false
		}
		if !letter && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
