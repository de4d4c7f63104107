package host

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// encoder writes groups in the ABI v1 input encoding. It keeps its buffers and agent
// table between batches: encoding is on the path of every materialized group.
type encoder struct {
	buf []byte

	// Agent -> provisional index (order of first sight). Keys are the ID's first 8
	// bytes: Ed25519 keys are uniform, so a prefix map hashes a quarter of the bytes and
	// almost never collides; collisions fall back to the full-key map.
	byPrefix   map[uint64]uint32
	collisions map[[32]byte]uint32
	agents     []agentEntry // by provisional index
	sorted     []uint32     // provisional indices in agent-ID order
	final      []uint32     // provisional index -> index in the sorted table
	signerRefs []uint32     // provisional index of every signer, in encoding order
}

type agentEntry struct {
	id    [32]byte
	trust float64
}

// inputSize is the encoded size of g without the agent table, and its signer count.
func inputSize(g *Group) (size, signers int) {
	size = groupHeaderSize + len(g.Subject) + len(g.Predicate)
	for i := range g.Candidates {
		c := &g.Candidates[i]
		size += candidateSize + len(c.Object) + signerSize*len(c.Signers)
		signers += len(c.Signers)
	}
	return size, signers
}

// outputBound is the largest valid output for groups: the status word and, per group, a
// count and at most one index per candidate (indices are distinct).
func outputBound(groups []Group) int {
	n := 4
	for i := range groups {
		n += 4 + 4*len(groups[i].Candidates)
	}
	return n
}

// encode returns the input encoding of groups, valid until the next call. The agent
// table is sorted by agent ID, so guests that sum over agents in index order get the
// same floating-point result whatever order the caller gave the candidates in.
func (e *encoder) encode(groups []Group) ([]byte, error) {
	if e.byPrefix == nil {
		e.byPrefix = make(map[uint64]uint32)
	}
	clear(e.byPrefix)
	clear(e.collisions)
	e.agents = e.agents[:0]
	e.signerRefs = e.signerRefs[:0]

	// Pass 1: intern agents and check what the guest cannot check for us.
	var nCands, size int
	for gi := range groups {
		g := &groups[gi]
		gs, _ := inputSize(g)
		size += gs
		nCands += len(g.Candidates)
		for ci := range g.Candidates {
			c := &g.Candidates[ci]
			if !finite(c.Confidence) {
				return nil, fmt.Errorf("encode group %d candidate %d: %w: confidence %v", gi, ci, ErrBadInput, c.Confidence)
			}
			for si := range c.Signers {
				s := &c.Signers[si]
				idx, err := e.intern(&s.Agent, s.Trust)
				if err != nil {
					return nil, fmt.Errorf("encode group %d candidate %d: %w", gi, ci, err)
				}
				e.signerRefs = append(e.signerRefs, idx)
			}
		}
	}
	size += headerSize + agentSize*len(e.agents)
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("encode: %w: %d bytes in one call", ErrBadInput, size)
	}

	e.sorted = e.sorted[:0]
	for i := range e.agents {
		e.sorted = append(e.sorted, uint32(i))
	}
	slices.SortFunc(e.sorted, func(a, b uint32) int { return bytes.Compare(e.agents[a].id[:], e.agents[b].id[:]) })
	e.final = slices.Grow(e.final[:0], len(e.agents))[:len(e.agents)]
	for pos, prov := range e.sorted {
		e.final[prov] = uint32(pos)
	}

	// Pass 2: write. Every length is known, so the buffer is sized once.
	b := slices.Grow(e.buf[:0], size)
	le := binary.LittleEndian
	b = le.AppendUint32(b, uint32(len(e.agents)))
	b = le.AppendUint32(b, uint32(len(groups)))
	b = le.AppendUint32(b, uint32(nCands))
	b = le.AppendUint32(b, uint32(len(e.signerRefs)))
	for _, prov := range e.sorted {
		a := &e.agents[prov]
		b = append(b, a.id[:]...)
		b = le.AppendUint64(b, math.Float64bits(a.trust))
	}
	ref := 0
	for gi := range groups {
		g := &groups[gi]
		b = le.AppendUint32(b, uint32(len(g.Subject)))
		b = le.AppendUint32(b, uint32(len(g.Predicate)))
		b = le.AppendUint32(b, uint32(len(g.Candidates)))
		b = append(b, g.Subject...)
		b = append(b, g.Predicate...)
		for ci := range g.Candidates {
			c := &g.Candidates[ci]
			b = append(b, c.Hash[:]...)
			b = le.AppendUint64(b, math.Float64bits(c.Confidence))
			// Every built-in rule orders by the newest signature; computing it here, in
			// native code, saves each lens a pass over the signers.
			var latest uint64
			for si := range c.Signers {
				latest = max(latest, c.Signers[si].Timestamp)
			}
			b = le.AppendUint64(b, latest)
			b = le.AppendUint32(b, c.Up)
			b = le.AppendUint32(b, c.Down)
			b = le.AppendUint32(b, uint32(len(c.Object)))
			b = le.AppendUint32(b, uint32(len(c.Signers)))
			b = append(b, c.Object...)
			for si := range c.Signers {
				b = le.AppendUint32(b, e.final[e.signerRefs[ref]])
				b = le.AppendUint64(b, c.Signers[si].Timestamp)
				ref++
			}
		}
	}
	e.buf = b
	return b, nil
}

// intern returns the provisional index of agent, adding it on first sight.
func (e *encoder) intern(agent *[32]byte, trust float64) (uint32, error) {
	prefix := binary.LittleEndian.Uint64(agent[:8])
	if idx, ok := e.byPrefix[prefix]; ok {
		if e.agents[idx].id == *agent {
			return idx, nil
		}
		if idx, ok := e.collisions[*agent]; ok {
			return idx, nil
		}
	}
	if !finite(trust) {
		return 0, fmt.Errorf("%w: trust %v", ErrBadInput, trust)
	}
	idx := uint32(len(e.agents))
	e.agents = append(e.agents, agentEntry{id: *agent, trust: trust})
	if _, taken := e.byPrefix[prefix]; !taken {
		e.byPrefix[prefix] = idx
		return idx, nil
	}
	if e.collisions == nil {
		e.collisions = make(map[[32]byte]uint32)
	}
	e.collisions[*agent] = idx
	return idx, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
