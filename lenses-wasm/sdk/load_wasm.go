//go:build wasm

package sdk

import "unsafe"

// On wasm the record fields are read with single unaligned little-endian loads and no
// bounds checks (the caller has checked the record's length): Go's wasm backend turns the
// portable byte-by-byte form (load_other.go) into many instructions, and decoding is a
// large share of a lens call.

func u32(b []byte, off int) uint32 {
	_ = b[off+3]
	return *(*uint32)(unsafe.Pointer(&b[off]))
}

func u64(b []byte, off int) uint64 {
	_ = b[off+7]
	return *(*uint64)(unsafe.Pointer(&b[off]))
}

// decodeCandidate reads a candidate's fixed fields from rec (len(rec) == candidateSize)
// and returns its object length and signer count.
func decodeCandidate(c *Candidate, rec []byte) (objLen, signers int) {
	p := unsafe.Pointer(unsafe.SliceData(rec))
	c.Hash = *(*[32]byte)(p)
	c.Confidence = *(*float64)(unsafe.Add(p, 32))
	c.Latest = *(*uint64)(unsafe.Add(p, 40))
	c.Up = *(*uint32)(unsafe.Add(p, 48))
	c.Down = *(*uint32)(unsafe.Add(p, 52))
	return int(*(*uint32)(unsafe.Add(p, 56))), int(*(*uint32)(unsafe.Add(p, 60)))
}

// decodeSigners fills dst from rec (len(rec) == len(dst)*signerSize); false when an agent
// index is past the agent table.
func decodeSigners(dst []Signer, rec []byte, agents []Agent) bool {
	p := unsafe.Pointer(unsafe.SliceData(rec))
	n := uint32(len(agents))
	for i := range dst {
		a := *(*uint32)(p)
		if a >= n {
			return false
		}
		dst[i] = Signer{Agent: a, Timestamp: *(*uint64)(unsafe.Add(p, 4)), Trust: agents[a].Trust}
		p = unsafe.Add(p, signerSize)
	}
	return true
}
