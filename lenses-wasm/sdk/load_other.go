//go:build !wasm

package sdk

import (
	"encoding/binary"
	"math"
)

func u32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }

func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// decodeCandidate reads a candidate's fixed fields from rec (len(rec) == candidateSize)
// and returns its object length and signer count.
func decodeCandidate(c *Candidate, rec []byte) (objLen, signers int) {
	le := binary.LittleEndian
	c.Hash = [32]byte(rec[:32])
	c.Confidence = math.Float64frombits(le.Uint64(rec[32:]))
	c.Latest = le.Uint64(rec[40:])
	c.Up = le.Uint32(rec[48:])
	c.Down = le.Uint32(rec[52:])
	return int(le.Uint32(rec[56:])), int(le.Uint32(rec[60:]))
}

// decodeSigners fills dst from rec (len(rec) == len(dst)*signerSize); false when an agent
// index is past the agent table.
func decodeSigners(dst []Signer, rec []byte, agents []Agent) bool {
	le := binary.LittleEndian
	for i := range dst {
		a := le.Uint32(rec[i*signerSize:])
		if a >= uint32(len(agents)) {
			return false
		}
		dst[i] = Signer{Agent: a, Timestamp: le.Uint64(rec[i*signerSize+4:]), Trust: agents[a].Trust}
	}
	return true
}
