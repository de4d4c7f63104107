//go:build wasip1

package sdk

import (
	"runtime"
	"unsafe"
)

//go:wasmexport stemedb_abi_version
func stemedbABIVersion() uint32 {
	runtime.Gosched()
	return ABIVersion
}

//go:wasmexport stemedb_lenses
func stemedbLenses() uint64 {
	if module.names == nil {
		module.names = module.registry.AppendNames(nil)
	}
	r := pack(module.names)
	runtime.Gosched()
	return r
}

//go:wasmexport stemedb_alloc
func stemedbAlloc(size uint32) uint32 {
	if uint64(cap(module.input)) < uint64(size) || cap(module.input) == 0 {
		// Grow by at least a quarter so that slowly growing batches do not reallocate
		// every call; the old buffer becomes garbage.
		n := int(size)
		if m := cap(module.input) + cap(module.input)/4; m > n {
			n = m
		}
		module.input = make([]byte, max(n, 1))
	}
	p := uint32(uintptr(unsafe.Pointer(&module.input[0])))
	runtime.Gosched()
	return p
}

//go:wasmexport stemedb_resolve
func stemedbResolve(lens, ptr, size uint32) uint64 {
	r := pack(resolve(lens, ptr, size))
	runtime.Gosched()
	return r
}

func resolve(lens, ptr, size uint32) []byte {
	lenses := module.registry.Lenses()
	if module.resolvers == nil {
		module.resolvers = make([]Resolver, len(lenses))
	}
	if int(lens) >= len(lenses) {
		return AppendError(nil, wrap("resolve", errNotSupported, "no lens "+itoa(lens)+" of "+itoa(len(lenses))))
	}
	// The input must be the buffer stemedb_alloc returned: anything else would be memory
	// the Go runtime owns.
	if len(module.input) == 0 || ptr != uint32(uintptr(unsafe.Pointer(&module.input[0]))) || int(size) > cap(module.input) {
		return AppendError(nil, wrap("resolve", errNotSupported, "input "+itoa(ptr)+"+"+itoa(size)+" is not the stemedb_alloc buffer"))
	}
	return module.resolvers[lens].Resolve(lenses[lens].Rule, module.input[:size])
}

// pack returns b's address and length as the host reads them: address<<32 | length.
func pack(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(uint32(len(b)))
}
