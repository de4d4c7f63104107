package host

import (
	"bytes"
	"errors"
	"fmt"
)

// moduleShape is what validation needs from a module's binary before compiling it.
type moduleShape struct {
	imports    []importEntry
	exports    map[string]byte // name -> kind
	memoryMins []uint64        // declared minimum pages of each defined memory
}

type importEntry struct {
	module, name string
	kind         byte
}

// Kinds of imports and exports in the binary format.
const (
	kindFunc   byte = 0
	kindTable  byte = 1
	kindMemory byte = 2
	kindGlobal byte = 3
	kindTag    byte = 4
)

func kindName(k byte) string {
	switch k {
	case kindFunc:
		return "function"
	case kindTable:
		return "table"
	case kindMemory:
		return "memory"
	case kindGlobal:
		return "global"
	case kindTag:
		return "tag"
	}
	return fmt.Sprintf("kind %d", k)
}

// errTruncated: a section or entry ends early.
var errTruncated = errors.New("truncated")

// scanModule reads the import, memory and export sections of a WebAssembly binary. It
// is not a validator (the compiler is); it exists so that refusals name the offending
// import or export in words, before any compile work is spent.
func scanModule(bin []byte) (*moduleShape, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:4], []byte("\x00asm")) {
		return nil, errors.New("no WebAssembly magic number")
	}
	if !bytes.Equal(bin[4:8], []byte{1, 0, 0, 0}) {
		return nil, fmt.Errorf("binary format version %x, want 1", bin[4:8])
	}
	shape := &moduleShape{exports: map[string]byte{}}
	r := &reader{b: bin[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return nil, fmt.Errorf("section %d: %w", id, errTruncated)
		}
		sec := &reader{b: r.b[:size]}
		r.b = r.b[size:]
		var err error
		switch id {
		case 2:
			err = scanImports(sec, shape)
		case 5:
			err = scanMemories(sec, shape)
		case 7:
			err = scanExports(sec, shape)
		}
		if err != nil {
			return nil, err
		}
	}
	return shape, nil
}

func scanImports(r *reader, shape *moduleShape) error {
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		e := importEntry{module: r.name(), name: r.name(), kind: r.byte()}
		switch e.kind {
		case kindFunc:
			r.u32()
		case kindTable:
			r.byte()
			r.limits()
		case kindMemory:
			r.limits()
		case kindGlobal:
			r.byte()
			r.byte()
		case kindTag:
			r.byte()
			r.u32()
		default:
			return fmt.Errorf("import %d: unknown kind %d", i, e.kind)
		}
		shape.imports = append(shape.imports, e)
	}
	if r.err != nil {
		return fmt.Errorf("import section: %w", r.err)
	}
	return nil
}

func scanMemories(r *reader, shape *moduleShape) error {
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		shape.memoryMins = append(shape.memoryMins, r.limits())
	}
	if r.err != nil {
		return fmt.Errorf("memory section: %w", r.err)
	}
	return nil
}

func scanExports(r *reader, shape *moduleShape) error {
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		name, kind := r.name(), r.byte()
		r.u32()
		shape.exports[name] = kind
	}
	if r.err != nil {
		return fmt.Errorf("export section: %w", r.err)
	}
	return nil
}

// reader decodes the binary format's primitives; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errTruncated
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); shift < bits+7; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("LEB128 too long")
	return 0
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

func (r *reader) name() string {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.err = errTruncated
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// limits reads table or memory limits and returns the minimum. Flag bit 0 says a
// maximum follows, bit 1 marks shared memory, bit 2 memory64 (64-bit bounds).
func (r *reader) limits() uint64 {
	flags := r.byte()
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	min := r.uleb(bits)
	if flags&1 != 0 {
		r.uleb(bits)
	}
	return min
}
