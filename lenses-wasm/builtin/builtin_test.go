package builtin_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
	"github.com/stemedb/stemedb/lenses-wasm/builtin"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
)

// TestLenses_MatchReference runs each rule natively, through the real ABI encoding, on
// random groups full of ties and compares with the independent reference.
func TestLenses_MatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	groups := lensref.RandomGroups(rng, 10_000, 20)
	// Large groups take the sorting path of object grouping.
	groups = append(groups, lensref.RandomGroups(rng, 300, 120)...)
	for _, l := range builtin.Lenses() {
		t.Run(l.Name, func(t *testing.T) {
			ref, err := lensref.New(l.Name)
			require.NoError(t, err)
			want, err := ref.Resolve(context.Background(), groups)
			require.NoError(t, err)
			got, err := sdktest.Native(l.Rule, groups)
			require.NoError(t, err)
			for i := range groups {
				require.Equal(t, norm(want[i]), norm(got[i]), "group %d: %+v", i, groups[i])
			}
		})
	}
}

func TestLenses_Names(t *testing.T) {
	var names []string
	for _, l := range builtin.Lenses() {
		names = append(names, l.Name)
	}
	require.Equal(t, host.BuiltinNames(), names)
}

// TestLenses_Examples pins API.md §4 on small hand-made groups.
func TestLenses_Examples(t *testing.T) {
	a, b, c := agent(1, 1), agent(2, 1), agent(3, 0.5)
	x, y := []byte{1, 0, 0, 0, 1, 'x'}, []byte{1, 0, 0, 0, 1, 'y'}
	tests := []struct {
		name  string
		cands []host.Candidate
		want  map[string][]int
	}{
		{
			name: "empty",
			want: map[string][]int{builtin.Latest: nil, builtin.HighestConfidence: nil, builtin.Consensus: nil,
				builtin.VoteAwareConsensus: nil, builtin.TrustWeighted: nil, builtin.All: nil},
		},
		{
			name: "confidence beats recency, consensus beats confidence",
			cands: []host.Candidate{
				{Hash: h(3), Object: x, Confidence: 0.9, Signers: sign(10, a)},
				{Hash: h(2), Object: y, Confidence: 0.5, Signers: sign(20, b, c)},
			},
			want: map[string][]int{builtin.Latest: {1}, builtin.HighestConfidence: {0}, builtin.Consensus: {1},
				builtin.VoteAwareConsensus: {1}, builtin.All: {1, 0},
				// x: 1*0.9 = 0.9; y: 1*0.5 + 0.5*0.5 = 0.75
				builtin.TrustWeighted: {0}},
		},
		{
			name: "equal confidence and time: smaller hash first",
			cands: []host.Candidate{
				{Hash: h(5), Object: x, Confidence: 0.5, Signers: sign(10, a)},
				{Hash: h(4), Object: y, Confidence: 0.5, Signers: sign(10, b)},
			},
			want: map[string][]int{builtin.Latest: {1}, builtin.HighestConfidence: {1}, builtin.Consensus: {1},
				builtin.VoteAwareConsensus: {1}, builtin.TrustWeighted: {1}, builtin.All: {1, 0}},
		},
		{
			name: "down votes sink the group; nothing left above zero",
			cands: []host.Candidate{
				{Hash: h(1), Object: x, Confidence: 1, Signers: sign(10, a), Down: 1},
				{Hash: h(2), Object: y, Confidence: 1, Signers: sign(10, b), Down: 2},
			},
			want: map[string][]int{builtin.VoteAwareConsensus: nil, builtin.Consensus: {0}},
		},
		{
			name: "representative has the most signers; distinct agents across the group",
			cands: []host.Candidate{
				{Hash: h(1), Object: x, Confidence: 0.9, Signers: sign(10, a)},
				{Hash: h(2), Object: x, Confidence: 0.1, Signers: sign(10, a, b)},
				{Hash: h(3), Object: y, Confidence: 1, Signers: sign(10, a, c)},
			},
			// x has {a, b}, y has {a, c}: tie on 2; y's best confidence 1 wins.
			want: map[string][]int{builtin.Consensus: {2}, builtin.HighestConfidence: {2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := []host.Group{{Subject: "s", Predicate: "p", Candidates: tt.cands}}
			for _, l := range builtin.Lenses() {
				want, ok := tt.want[l.Name]
				if !ok {
					continue
				}
				got, err := sdktest.Native(l.Rule, g)
				require.NoError(t, err)
				require.Equal(t, norm(want), norm(got[0]), l.Name)
			}
		})
	}
}

func agent(id byte, trust float64) host.Signer { return host.Signer{Agent: [32]byte{id}, Trust: trust} }

func sign(ts uint64, agents ...host.Signer) []host.Signer {
	out := make([]host.Signer, len(agents))
	for i, a := range agents {
		a.Timestamp = ts
		out[i] = a
	}
	return out
}

func h(b byte) [32]byte { return [32]byte{b} }

// norm makes nil and empty results compare equal.
func norm(r []int) []int {
	if len(r) == 0 {
		return nil
	}
	return r
}
