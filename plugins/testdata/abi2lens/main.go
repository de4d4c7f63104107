// Command abi2lens is a test lens module written without the SDK that answers
// stemedb_abi_version with 2, an ABI this host does not speak. Every other export has the
// right shape, so that the version is the only thing wrong with it.
package main

import "unsafe"

var (
	names = []byte{1, 0, 0, 0, 6, 0, 0, 0, 'F', 'u', 't', 'u', 'r', 'e'}
	input = make([]byte, 1<<10)
	empty = []byte{0, 0, 0, 0}
)

func region(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

//go:wasmexport stemedb_abi_version
func abiVersion() uint32 { return 2 }

//go:wasmexport stemedb_lenses
func lenses() uint64 { return region(names) }

//go:wasmexport stemedb_alloc
func alloc(size uint32) uint32 {
	if int(size) > len(input) {
		input = make([]byte, size)
	}
	return uint32(uintptr(unsafe.Pointer(&input[0])))
}

//go:wasmexport stemedb_resolve
func resolve(lens, ptr, size uint32) uint64 { return region(empty) }

func main() {}
