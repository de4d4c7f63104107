package assertion

import (
	"encoding/binary"
	"math"

	"github.com/zeebo/blake3"
)

// claimPrefix opens the claim bytes (API.md §1.1); the version in it is part of every hash.
const claimPrefix = "stemedb/claim/v1\x00"

// AppendBytes appends the claim bytes of API.md §1.1 to dst and returns the extended buffer:
//
//	"stemedb/claim/v1" 0x00, str(subject), str(predicate), u8 tag + value,
//	f64 confidence (-0 as +0), 32 bytes source hash
//
// where str(x) is a u32 big-endian length and the bytes. The result is defined for claims
// that pass Validate; for others it is deterministic but meaningless.
func (c Claim) AppendBytes(dst []byte) []byte {
	dst = append(dst, claimPrefix...)
	dst = appendStr(dst, c.Subject)
	dst = appendStr(dst, c.Predicate)
	dst = c.Object.AppendValueBytes(dst)
	dst = appendF64(dst, c.Confidence)
	return append(dst, c.Source[:]...)
}

// Hash returns the claim's identity: BLAKE3-256 of its claim bytes. The value receiver lets
// callers hash a claim returned by a function; the copy costs far less than the hashing.
func (c Claim) Hash() Hash {
	// Claims are usually small: a stack buffer keeps the common case free of allocations.
	var buf [512]byte
	return blake3.Sum256(c.AppendBytes(buf[:0]))
}

// AppendValueBytes appends the object's tag and value bytes as they appear in the claim
// bytes. Two objects are the same object (API.md §4, lens groups) exactly when these bytes
// are equal, so lenses compare objects by them.
func (o Object) AppendValueBytes(dst []byte) []byte {
	dst = append(dst, byte(o.Type))
	switch o.Type {
	case TypeString, TypeEntity, TypeJSON:
		dst = appendStr(dst, o.Text)
	case TypeNumber:
		dst = appendF64(dst, o.Number)
	case TypeBoolean:
		dst = append(dst, boolByte(o.Bool))
	case TypeTime:
		dst = binary.BigEndian.AppendUint64(dst, uint64(o.UnixNano))
	}
	return dst
}

// Equal reports whether o and p are the same object: same type and same value bytes
// (so -0 equals +0, and a Number never equals a String).
func (o Object) Equal(p Object) bool {
	if o.Type != p.Type {
		return false
	}
	switch o.Type {
	case TypeString, TypeEntity, TypeJSON:
		return o.Text == p.Text
	case TypeNumber:
		return normZero(o.Number) == normZero(p.Number) // bitwise, as the hash sees them
	case TypeBoolean:
		return o.Bool == p.Bool
	case TypeTime:
		return o.UnixNano == p.UnixNano
	}
	return true
}

func appendStr(dst []byte, s string) []byte {
	// Validated strings are far below 4 GiB; the truncation cannot happen for them.
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// appendF64 writes IEEE-754 bits big-endian with -0 folded into +0, so that the two zeros,
// which compare equal, are one claim.
func appendF64(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(dst, normZero(f))
}

func normZero(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
