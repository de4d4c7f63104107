package assertion

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Log record payloads (API.md §9 leaves their encoding to us; the package doc specifies it).
// Every payload starts with the format version and a Kind, so that the log can hold kinds
// owned by other packages and a later format can be told apart from corruption.

// PayloadVersion is the first byte of every payload this package writes.
const PayloadVersion = 1

// Kind is the second byte of a payload: what act the record holds.
// Kinds 1–3 belong to this package; 4–255 are reserved for other record kinds the log
// may need for a rebuild (e.g. lens registry changes), which their owners encode after
// the same two-byte header.
type Kind uint8

// The record kinds of this package.
const (
	KindAssert  Kind = 1 // one or more assertions, written as one atomic act (e.g. a batch)
	KindVote    Kind = 2 // one vote
	KindRetract Kind = 3 // one retraction
)

// String names the kind for logs and errors.
func (k Kind) String() string {
	switch k {
	case KindAssert:
		return "assert"
	case KindVote:
		return "vote"
	case KindRetract:
		return "retract"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Record is a decoded payload: Kind says which of the other fields is set.
type Record struct {
	Kind       Kind
	Assertions []Assertion // KindAssert: one or more
	Vote       Vote        // KindVote
	Retraction Retraction  // KindRetract
}

// Sizes of encoded items; the minimums bound counts read from a payload before anything
// is allocated for them.
const (
	sigLen    = 32 + 64    // agent and signature, before the timestamp
	minSigLen = sigLen + 1 // with the shortest timestamp varint

	// Empty subject and predicate (one length byte each), a Boolean (tag and value),
	// confidence, source flag, signature count, and one signature.
	minAssertionLen = 1 + 1 + 2 + 8 + 1 + 1 + minSigLen
)

// AppendAssertRecord appends the payload of an assert record holding as, in order.
// The assertions should have passed Validate: DecodeRecord refuses a record with no
// assertion or an assertion with no signature.
func AppendAssertRecord(dst []byte, as []Assertion) []byte {
	n := 2 + binary.MaxVarintLen64
	for i := range as {
		n += encodedLen(&as[i])
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, PayloadVersion, byte(KindAssert))
	dst = binary.AppendUvarint(dst, uint64(len(as)))
	for i := range as {
		dst = appendAssertion(dst, &as[i])
	}
	return dst
}

func encodedLen(a *Assertion) int {
	c := &a.Claim
	n := 3*binary.MaxVarintLen64 + len(c.Subject) + len(c.Predicate) + 1 + 8 + len(c.Object.Text) + 8 + 1 + 32
	return n + len(a.Signatures)*(sigLen+binary.MaxVarintLen64)
}

func appendAssertion(dst []byte, a *Assertion) []byte {
	c := &a.Claim
	dst = appendBytes(dst, c.Subject)
	dst = appendBytes(dst, c.Predicate)
	dst = append(dst, byte(c.Object.Type))
	switch c.Object.Type {
	case TypeString, TypeEntity, TypeJSON:
		dst = appendBytes(dst, c.Object.Text)
	case TypeNumber:
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(c.Object.Number))
	case TypeBoolean:
		dst = append(dst, boolByte(c.Object.Bool))
	case TypeTime:
		dst = binary.BigEndian.AppendUint64(dst, uint64(c.Object.UnixNano))
	}
	dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(c.Confidence))
	if c.Source.IsZero() {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = append(dst, c.Source[:]...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Signatures)))
	for i := range a.Signatures {
		s := &a.Signatures[i]
		dst = append(dst, s.Agent[:]...)
		dst = append(dst, s.Sig[:]...)
		dst = binary.AppendUvarint(dst, s.Timestamp)
	}
	return dst
}

// AppendVoteRecord appends the payload of a vote record.
func AppendVoteRecord(dst []byte, v Vote) []byte {
	dst = slices.Grow(dst, 2+32+32+1+binary.MaxVarintLen64+64)
	dst = append(dst, PayloadVersion, byte(KindVote))
	dst = append(dst, v.Assertion[:]...)
	dst = append(dst, v.Agent[:]...)
	dst = append(dst, byte(v.Value))
	dst = binary.AppendUvarint(dst, v.Timestamp)
	return append(dst, v.Sig[:]...)
}

// AppendRetractRecord appends the payload of a retract record.
func AppendRetractRecord(dst []byte, r Retraction) []byte {
	dst = slices.Grow(dst, 2+32+32+binary.MaxVarintLen64+64)
	dst = append(dst, PayloadVersion, byte(KindRetract))
	dst = append(dst, r.Assertion[:]...)
	dst = append(dst, r.Agent[:]...)
	dst = binary.AppendUvarint(dst, r.Timestamp)
	return append(dst, r.Sig[:]...)
}

func appendBytes(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
