// Command evillens is a test lens module, written against the raw ABI without the SDK,
// whose lenses misbehave in every way the sandbox must contain, but only on a batch
// holding a group whose subject starts with "evil": on anything else (the registry's
// smoke call at upload, ordinary queries) each answers "no winner" for every group, so
// that the upload is accepted and the misbehaviour happens at run time.
//
//	Spin       loops forever                      (the call's deadline)
//	Bomb       allocates 1 MiB after 1 MiB         (memory.grow until the memory cap)
//	Huge       allocates 1 GiB at once             (past the memory cap in one go)
//	Recurse    recurses without end               (the stack grows until memory runs out)
//	BadPtr     returns a region outside memory    (bad output)
//	HugeLen    returns a length of almost 4 GiB   (bad output)
//	Garbage    returns an unknown status          (bad output)
//	BadIndex   names candidate 999                (bad output)
//	Exit       calls proc_exit mid-call           (a trap)
package main

import (
	"encoding/binary"
	"os"
	"strings"
	"unsafe"
)

var names = []string{"Spin", "Bomb", "Huge", "Recurse", "BadPtr", "HugeLen", "Garbage", "BadIndex", "Exit"}

var (
	table  []byte
	input  []byte
	output []byte
	sink   [][]byte
	depth  int
)

func region(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

//go:wasmexport stemedb_abi_version
func abiVersion() uint32 { return 1 }

//go:wasmexport stemedb_lenses
func lenses() uint64 {
	if table == nil {
		table = binary.LittleEndian.AppendUint32(nil, uint32(len(names)))
		for _, n := range names {
			table = binary.LittleEndian.AppendUint32(table, uint32(len(n)))
			table = append(table, n...)
		}
	}
	return region(table)
}

//go:wasmexport stemedb_alloc
func alloc(size uint32) uint32 {
	if int(size) > cap(input) || cap(input) == 0 {
		input = make([]byte, max(int(size), 1))
	}
	return uint32(uintptr(unsafe.Pointer(&input[0])))
}

//go:wasmexport stemedb_resolve
func resolve(lens, ptr, size uint32) uint64 {
	in := input[:size]
	groups := int(binary.LittleEndian.Uint32(in[4:]))
	if hasEvil(in) {
		switch names[lens] {
		case "Spin":
			for n := 0; ; n++ {
				depth = n
			}
		case "Bomb":
			for {
				sink = append(sink, make([]byte, 1<<20))
			}
		case "Huge":
			sink = append(sink, make([]byte, 1<<30))
		case "Recurse":
			recurse(1)
		case "BadPtr":
			return 0xFFFF_0000<<32 | 16
		case "HugeLen":
			return uint64(uintptr(unsafe.Pointer(&input[0])))<<32 | 0xFFFF_FFF0
		case "Garbage":
			output = binary.LittleEndian.AppendUint32(output[:0], 7)
			return region(output)
		case "BadIndex":
			output = binary.LittleEndian.AppendUint32(output[:0], 0)
			for range groups {
				output = binary.LittleEndian.AppendUint32(output, 1)
				output = binary.LittleEndian.AppendUint32(output, 999)
			}
			return region(output)
		case "Exit":
			os.Exit(3)
		}
	}
	output = binary.LittleEndian.AppendUint32(output[:0], 0)
	for range groups {
		output = binary.LittleEndian.AppendUint32(output, 0) // no winner
	}
	return region(output)
}

// recurse never returns; its 32 KiB frame makes the stack outgrow memory within a few
// hundred calls.
func recurse(n int) int {
	var pad [4096]int
	pad[n%4096] = n
	return recurse(n+1) + pad[(n+1)%4096]
}

// hasEvil reports whether a group of the batch has a subject starting with "evil",
// walking the input layout of lenses-wasm/README.md.
func hasEvil(in []byte) bool {
	u32 := func(off int) int { return int(binary.LittleEndian.Uint32(in[off:])) }
	agents, groups := u32(0), u32(4)
	off := 16 + 40*agents
	for range groups {
		subjLen, predLen, cands := u32(off), u32(off+4), u32(off+8)
		subject := string(in[off+12 : off+12+subjLen])
		if strings.HasPrefix(subject, "evil") {
			return true
		}
		off += 12 + subjLen + predLen
		for range cands {
			objLen, signers := u32(off+56), u32(off+60)
			off += 64 + objLen + 12*signers
		}
	}
	return false
}

func main() {}
