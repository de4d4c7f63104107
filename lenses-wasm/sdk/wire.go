package sdk

import (
	"encoding/binary"
	"errors"
	"math"
	"unsafe"
)

// ABIVersion is the lens ABI version this SDK implements.
const ABIVersion = 1

// Status words that open a result region (see README.md, "Result").
const (
	StatusOK    uint32 = 0
	StatusError uint32 = 1
)

// Fixed sizes of the input encoding, in bytes.
const (
	headerSize      = 16 // agent_count, group_count, candidate_count, signer_count
	agentSize       = 40 // id [32], trust f64
	groupHeaderSize = 12 // subject_len, predicate_len, candidate_count
	candidateSize   = 64 // hash [32], confidence f64, latest u64, up, down, object_len, signer_count
	signerSize      = 12 // agent_index u32, timestamp u64
)

// maxErrorMessage bounds the error text a guest sends back; the host reads no more.
const maxErrorMessage = 1024

// ErrMalformedInput reports an input batch that does not follow the ABI v1 encoding.
var ErrMalformedInput = errors.New("malformed input")

// Batch is a decoded input: the agent table and the groups, in the host's order. Decode
// reuses a Batch's memory, so keep one Batch and decode into it again and again.
type Batch struct {
	Agents []Agent
	Groups []Group

	candidates []Candidate // backing store of every group's Candidates
	signers    []Signer    // backing store of every candidate's Signers
}

// Decode parses in (ABI v1 input encoding) into b. Strings and byte slices in b point into
// in (no copy), so in must stay unchanged while b is used.
func (b *Batch) Decode(in []byte) error {
	if len(in) < headerSize {
		return wrap("decode header", ErrMalformedInput, itoa(len(in))+" bytes")
	}
	nAgents := u32(in, 0)
	nGroups := u32(in, 4)
	nCands := u32(in, 8)
	nSigners := u32(in, 12)
	// Each count is bounded by the bytes it needs, so a lying header cannot make us
	// allocate more than a small multiple of the input's size.
	rest := uint64(len(in) - headerSize)
	if uint64(nAgents)*agentSize > rest || uint64(nGroups)*groupHeaderSize > rest ||
		uint64(nCands)*candidateSize > rest || uint64(nSigners)*signerSize > rest {
		return wrap("decode header", ErrMalformedInput, "counts exceed input size")
	}
	b.Agents = grow(b.Agents, int(nAgents))
	b.Groups = grow(b.Groups, int(nGroups))
	b.candidates = grow(b.candidates, int(nCands))
	b.signers = grow(b.signers, int(nSigners))

	off := headerSize
	for i := range b.Agents {
		a := &b.Agents[i]
		a.ID = [32]byte(in[off : off+32])
		a.Trust = math.Float64frombits(u64(in, off+32))
		off += agentSize
	}
	var ci, si int // next free candidate and signer slots
	for g := range b.Groups {
		if len(in)-off < groupHeaderSize {
			return wrap("decode group "+itoa(g), ErrMalformedInput, "truncated")
		}
		subjLen := int(u32(in, off))
		predLen := int(u32(in, off+4))
		nc := int(u32(in, off+8))
		off += groupHeaderSize
		if subjLen > len(in)-off || predLen > len(in)-off-subjLen {
			return wrap("decode group "+itoa(g), ErrMalformedInput, "subject or predicate past the end")
		}
		if nc > len(b.candidates)-ci {
			return wrap("decode group "+itoa(g), ErrMalformedInput, "more candidates than the header says")
		}
		grp := &b.Groups[g]
		grp.Subject = bytesString(in[off : off+subjLen])
		off += subjLen
		grp.Predicate = bytesString(in[off : off+predLen])
		off += predLen
		grp.Candidates = b.candidates[ci : ci+nc : ci+nc]
		grp.Agents = b.Agents
		ci += nc
		for c := range grp.Candidates {
			if len(in)-off < candidateSize {
				return wrap("decode group "+itoa(g)+" candidate "+itoa(c), ErrMalformedInput, "truncated")
			}
			cand := &grp.Candidates[c]
			objLen, ns := decodeCandidate(cand, in[off:off+candidateSize])
			off += candidateSize
			if objLen > len(in)-off {
				return wrap("decode group "+itoa(g)+" candidate "+itoa(c), ErrMalformedInput, "object past the end")
			}
			cand.Object = in[off : off+objLen : off+objLen]
			off += objLen
			if ns > len(b.signers)-si || ns*signerSize > len(in)-off {
				return wrap("decode group "+itoa(g)+" candidate "+itoa(c), ErrMalformedInput, "signers past the end")
			}
			cand.Signers = b.signers[si : si+ns : si+ns]
			si += ns
			if !decodeSigners(cand.Signers, in[off:off+ns*signerSize], b.Agents) {
				return wrap("decode group "+itoa(g)+" candidate "+itoa(c), ErrMalformedInput, "agent index past the agent table")
			}
			off += ns * signerSize
		}
	}
	if off != len(in) || ci != len(b.candidates) || si != len(b.signers) {
		return wrap("decode", ErrMalformedInput, "counts or length do not add up")
	}
	return nil
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// bytesString views b as a string without copying: Decode's inputs outlive the call of
// the rule, and a copy per group would be most of the decoding cost for short groups.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// AppendWinners appends one group's result (count, then u32 candidate indices) to out.
func AppendWinners(out []byte, winners []int) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(len(winners)))
	for _, w := range winners {
		out = binary.LittleEndian.AppendUint32(out, uint32(w))
	}
	return out
}

// AppendError replaces out with an error result: the error status and a bounded message.
func AppendError(out []byte, err error) []byte {
	msg := err.Error()
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage]
	}
	out = binary.LittleEndian.AppendUint32(out[:0], StatusError)
	return append(out, msg...)
}
