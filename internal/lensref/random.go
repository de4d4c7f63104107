package lensref

import (
	"math/rand/v2"

	"github.com/stemedb/stemedb/host"
)

// RandomGroups returns n groups of 0..maxCandidates candidates drawn to hit every tie
// rule: few distinct confidences, timestamps and objects, a small pool of agents with
// assorted trust (some of it not exactly representable, so summation order shows), votes
// on both sides, several signers per candidate and the same object on several candidates.
// Hashes are random, hence distinct. Use a seeded rng for reproducible inputs.
func RandomGroups(rng *rand.Rand, n, maxCandidates int) []host.Group {
	confidences := []float64{0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 1}
	trusts := []float64{1, 1, 0.5, 0.1, 0.3, 0.7, 2, 0}
	agents := make([]host.Signer, 12)
	for i := range agents {
		fill(rng, agents[i].Agent[:])
		agents[i].Trust = trusts[i%len(trusts)]
	}
	objects := [][]byte{
		{1, 0, 0, 0, 1, 'a'}, {1, 0, 0, 0, 1, 'b'}, {1, 0, 0, 0, 2, 'a', 'b'},
		{2, 0x40, 0x58, 0x2c, 0xcc, 0xcc, 0xcc, 0xcc, 0xcd}, {3, 1}, {4, 0, 0, 0, 1, 'a'},
	}
	groups := make([]host.Group, n)
	for gi := range groups {
		g := &groups[gi]
		g.Subject = "s" + string(rune('a'+gi%26))
		g.Predicate = "p"
		nc := rng.IntN(maxCandidates + 1)
		nObjects := 1 + rng.IntN(len(objects))
		g.Candidates = make([]host.Candidate, nc)
		for ci := range g.Candidates {
			c := &g.Candidates[ci]
			fill(rng, c.Hash[:])
			c.Object = objects[rng.IntN(nObjects)]
			c.Confidence = confidences[rng.IntN(len(confidences))]
			if rng.IntN(3) == 0 {
				c.Up = uint32(rng.IntN(4))
			}
			if rng.IntN(3) == 0 {
				c.Down = uint32(rng.IntN(5))
			}
			ns := 1 + rng.IntN(4)
			if rng.IntN(50) == 0 {
				ns = 0 // not a live assertion, but a lens must not trip on it
			}
			for _, a := range rng.Perm(len(agents))[:ns] {
				s := agents[a]
				s.Timestamp = 1_764_000_000 + uint64(rng.IntN(4))
				c.Signers = append(c.Signers, s)
			}
		}
	}
	return groups
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}
