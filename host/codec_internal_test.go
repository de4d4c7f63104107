package host

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// fuzzGroups derives a small batch from a seed: few agents and objects so that interning
// and sharing are exercised, sizes 0..6.
func fuzzGroups(seed uint64, nGroups int) []Group {
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	agents := make([][32]byte, 1+rng.IntN(5))
	for i := range agents {
		agents[i][0], agents[i][31] = byte(rng.IntN(256)), byte(i)
	}
	groups := make([]Group, nGroups)
	for gi := range groups {
		g := &groups[gi]
		g.Subject = string(rune('a' + rng.IntN(26)))
		g.Predicate = string(make([]byte, rng.IntN(3)))
		for range rng.IntN(7) {
			c := Candidate{Confidence: float64(rng.IntN(5)) / 4, Up: rng.Uint32(), Down: uint32(rng.IntN(3))}
			c.Hash[0] = byte(rng.IntN(256))
			c.Object = bytes.Repeat([]byte{byte(rng.IntN(3))}, rng.IntN(4))
			for _, a := range rng.Perm(len(agents))[:rng.IntN(len(agents)+1)] {
				// Trust per agent is a function of the agent, as callers promise.
				c.Signers = append(c.Signers, Signer{Agent: agents[a], Timestamp: rng.Uint64(), Trust: float64(a) / 3})
			}
			g.Candidates = append(g.Candidates, c)
		}
	}
	return groups
}

// FuzzInputRoundTrip encodes with the host and decodes with the guest SDK: everything a
// lens sees must be what the caller sent, and the agent table sorted and unique.
func FuzzInputRoundTrip(f *testing.F) {
	for _, s := range []uint64{0, 1, 42, 1 << 40} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, seed uint64, n uint8) {
		groups := fuzzGroups(seed, int(n%16))
		in, err := EncodeInput(groups)
		require.NoError(t, err)
		var b sdk.Batch
		require.NoError(t, b.Decode(in))
		require.Len(t, b.Groups, len(groups))
		for i := 1; i < len(b.Agents); i++ {
			require.Negative(t, bytes.Compare(b.Agents[i-1].ID[:], b.Agents[i].ID[:]), "agent table sorted and unique")
		}
		for gi, g := range groups {
			dg := b.Groups[gi]
			require.Equal(t, g.Subject, dg.Subject)
			require.Equal(t, g.Predicate, dg.Predicate)
			require.Len(t, dg.Candidates, len(g.Candidates))
			for ci, c := range g.Candidates {
				dc := dg.Candidates[ci]
				require.Equal(t, c.Hash, dc.Hash)
				require.Equal(t, string(c.Object), string(dc.Object))
				require.Equal(t, math.Float64bits(c.Confidence), math.Float64bits(dc.Confidence))
				require.Equal(t, [2]uint32{c.Up, c.Down}, [2]uint32{dc.Up, dc.Down})
				var latest uint64
				for _, s := range c.Signers {
					latest = max(latest, s.Timestamp)
				}
				require.Equal(t, latest, dc.Latest)
				require.Len(t, dc.Signers, len(c.Signers))
				for si, s := range c.Signers {
					ds := dc.Signers[si]
					require.Equal(t, s.Agent, dg.Agents[ds.Agent].ID)
					require.Equal(t, s.Timestamp, ds.Timestamp)
					require.Equal(t, s.Trust, ds.Trust)
				}
			}
		}
	})
}

// FuzzDecodeOutput feeds arbitrary result regions to the host's decoder: it must never
// panic, and whatever it accepts must be in range and free of repeats.
func FuzzDecodeOutput(f *testing.F) {
	le := binary.LittleEndian
	ok := le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 0), 1), 0)
	f.Add(uint64(1), uint8(1), ok)
	f.Add(uint64(1), uint8(2), ok)
	f.Add(uint64(3), uint8(1), append(le.AppendUint32(nil, 1), "boom"...))
	f.Add(uint64(5), uint8(0), le.AppendUint32(nil, 0))
	f.Add(uint64(5), uint8(1), []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, seed uint64, n uint8, out []byte) {
		groups := fuzzGroups(seed, int(n%8))
		var d outputDecoder
		results := make([][]int, len(groups))
		if err := d.decode(out, groups, results); err != nil {
			return
		}
		for gi, r := range results {
			seen := map[int]bool{}
			for _, w := range r {
				require.True(t, w >= 0 && w < len(groups[gi].Candidates))
				require.False(t, seen[w])
				seen[w] = true
			}
		}
	})
}

// TestEncode_OutputBoundMatchesSDK checks the host's output bound against the largest
// output the SDK can produce: every candidate a winner.
func TestEncode_OutputBoundMatchesSDK(t *testing.T) {
	groups := fuzzGroups(9, 10)
	in, err := EncodeInput(groups)
	require.NoError(t, err)
	var r sdk.Resolver
	out := r.Resolve(func(g *sdk.Group) []int {
		all := make([]int, len(g.Candidates))
		for i := range all {
			all[i] = i
		}
		return all
	}, in)
	require.Len(t, out, outputBound(groups))
	res, err := DecodeOutput(out, groups)
	require.NoError(t, err)
	for gi := range groups {
		require.Len(t, res[gi], len(groups[gi].Candidates))
	}
}
