package host_test

import "encoding/binary"

// The tests build tiny modules by hand: each exercises one validation rule or one guest
// misbehaviour without the cost of compiling a Go guest.

const (
	i32 = 0x7f
	i64 = 0x7e
)

// wasmFunc is a function: its type, body (without locals and final end) and export name.
type wasmFunc struct {
	export  string
	params  []byte
	results []byte
	body    []byte
}

type wasmImport struct {
	module, name string
	params       []byte
	results      []byte
}

type dataSegment struct {
	offset uint32
	bytes  []byte
}

// wasmModule is a module with functions, one memory, mutable i32 globals and data.
type wasmModule struct {
	imports  []wasmImport
	funcs    []wasmFunc
	memMin   uint32
	noMemory bool
	memName  string // export name of the memory; "memory" when empty
	globals  int
	data     []dataSegment
}

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }

func section(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = uleb(out, uint64(len(body)))
	return append(out, body...)
}

func vector(items [][]byte) []byte {
	b := uleb(nil, uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func (m wasmModule) bytes() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	var types [][]byte
	funcType := func(params, results []byte) []byte {
		t := append([]byte{0x60}, uleb(nil, uint64(len(params)))...)
		t = append(t, params...)
		t = uleb(t, uint64(len(results)))
		return append(t, results...)
	}
	for _, im := range m.imports {
		types = append(types, funcType(im.params, im.results))
	}
	for _, f := range m.funcs {
		types = append(types, funcType(f.params, f.results))
	}
	out = section(out, 1, vector(types))
	if len(m.imports) > 0 {
		var ims [][]byte
		for i, im := range m.imports {
			e := name(name(nil, im.module), im.name)
			e = append(e, 0)
			ims = append(ims, uleb(e, uint64(i)))
		}
		out = section(out, 2, vector(ims))
	}
	var fidx [][]byte
	for i := range m.funcs {
		fidx = append(fidx, uleb(nil, uint64(len(m.imports)+i)))
	}
	out = section(out, 3, vector(fidx))
	if !m.noMemory {
		out = section(out, 5, vector([][]byte{uleb([]byte{0}, uint64(m.memMin))}))
	}
	if m.globals > 0 {
		var gs [][]byte
		for range m.globals {
			gs = append(gs, []byte{i32, 1, 0x41, 0, 0x0b})
		}
		out = section(out, 6, vector(gs))
	}
	var exports [][]byte
	if !m.noMemory {
		n := m.memName
		if n == "" {
			n = "memory"
		}
		exports = append(exports, append(name(nil, n), 2, 0))
	}
	for i, f := range m.funcs {
		if f.export != "" {
			exports = append(exports, uleb(append(name(nil, f.export), 0), uint64(len(m.imports)+i)))
		}
	}
	out = section(out, 7, vector(exports))
	var codes [][]byte
	for _, f := range m.funcs {
		body := append([]byte{0}, f.body...) // no locals
		body = append(body, 0x0b)
		codes = append(codes, append(uleb(nil, uint64(len(body))), body...))
	}
	out = section(out, 10, vector(codes))
	if len(m.data) > 0 {
		var segs [][]byte
		for _, d := range m.data {
			s := []byte{0, 0x41}
			s = sleb(s, int64(int32(d.offset)))
			s = append(s, 0x0b)
			s = uleb(s, uint64(len(d.bytes)))
			segs = append(segs, append(s, d.bytes...))
		}
		out = section(out, 11, vector(segs))
	}
	return out
}

// Instruction helpers.
func i32Const(v int32) []byte { return sleb([]byte{0x41}, int64(v)) }
func i64Const(v int64) []byte { return sleb([]byte{0x42}, v) }
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	opUnreachable = []byte{0x00}
	opLoopForever = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
)

// Fixed addresses in hand-written lens modules.
const (
	namesAt  = 1024 // lens-name table
	inputAt  = 4096 // what stemedb_alloc returns
	outputAt = 0    // where resolve's result lives
)

// lensModule is a minimal valid ABI v1 module with one lens called "Fixed" whose resolve
// body is given (it must leave an i64 packed region on the stack). memMin is 2 pages, so
// the input buffer at 4096 has room for small batches.
func lensModule(resolve []byte) wasmModule {
	names := binary.LittleEndian.AppendUint32(nil, 1)
	names = binary.LittleEndian.AppendUint32(names, 5)
	names = append(names, "Fixed"...)
	return wasmModule{
		memMin:  2,
		globals: 1,
		data:    []dataSegment{{offset: namesAt, bytes: names}},
		funcs: []wasmFunc{
			{export: "_initialize"},
			{export: "stemedb_abi_version", results: []byte{i32}, body: i32Const(1)},
			{export: "stemedb_lenses", results: []byte{i64}, body: i64Const(namesAt<<32 | int64(len(names)))},
			{export: "stemedb_alloc", params: []byte{i32}, results: []byte{i32}, body: i32Const(inputAt)},
			{export: "stemedb_resolve", params: []byte{i32, i32, i32}, results: []byte{i64}, body: resolve},
		},
	}
}

// fixedOutput is a module whose resolve always returns out (placed at address 0).
func fixedOutput(out []byte) []byte {
	m := lensModule(i64Const(int64(len(out))))
	m.data = append(m.data, dataSegment{offset: outputAt, bytes: out})
	return m.bytes()
}

// withFunc returns m with the function named export replaced (or added when absent).
func (m wasmModule) withFunc(f wasmFunc) wasmModule {
	funcs := append([]wasmFunc(nil), m.funcs...)
	for i := range funcs {
		if funcs[i].export == f.export {
			funcs[i] = f
			m.funcs = funcs
			return m
		}
	}
	m.funcs = append(funcs, f)
	return m
}

// withoutFunc returns m without the function exported as export.
func (m wasmModule) withoutFunc(export string) wasmModule {
	var funcs []wasmFunc
	for _, f := range m.funcs {
		if f.export != export {
			funcs = append(funcs, f)
		}
	}
	m.funcs = funcs
	return m
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}
