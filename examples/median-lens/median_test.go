package main

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
)

// candidate is a Number candidate told apart by its hash's first byte, with signers
// agents (each its own agent).
func candidate(h byte, value float64, signers ...byte) host.Candidate {
	c := host.Candidate{Confidence: 0.5, Object: binary.BigEndian.AppendUint64([]byte{tagNumber}, math.Float64bits(value))}
	c.Hash[0] = h
	for _, a := range signers {
		var id [32]byte
		id[0] = a
		c.Signers = append(c.Signers, host.Signer{Agent: id, Timestamp: 1_764_000_000, Trust: 1})
	}
	return c
}

// TestMedian runs the rule natively through the real encoding (sdktest.Native), as the
// server would call it.
func TestMedian(t *testing.T) {
	text := host.Candidate{Object: []byte{1, 0, 0, 0, 2, 'h', 'i'}, Confidence: 1, Signers: []host.Signer{{Trust: 1}}}
	text.Hash[0] = 99
	tests := []struct {
		name  string
		cands []host.Candidate
		want  []int
	}{
		{"the broken sensor loses", []host.Candidate{candidate(1, 21.5, 1), candidate(2, 85, 2), candidate(3, 22, 3)}, []int{2}},
		{"one candidate", []host.Candidate{candidate(1, 7, 1)}, []int{0}},
		{"even count: the lower median", []host.Candidate{candidate(1, 4, 1), candidate(2, 1, 2), candidate(3, 3, 3), candidate(4, 2, 4)}, []int{3}},
		{"co-signers weigh", []host.Candidate{candidate(1, 10, 1), candidate(2, 50, 2, 3, 4), candidate(3, 20, 5)}, []int{1}},
		{"equal values: ordered by hash", []host.Candidate{candidate(7, 5, 1), candidate(2, 5, 2), candidate(9, 5, 3)}, []int{0}},
		{"text is ignored", []host.Candidate{text, candidate(1, 3, 1)}, []int{1}},
		{"no numbers, no winner", []host.Candidate{text}, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdktest.Native(Median, []host.Group{{Subject: "room_42", Predicate: "temperature", Candidates: tt.cands}})
			require.NoError(t, err)
			require.Len(t, got, 1)
			if len(tt.want) == 0 {
				require.Empty(t, got[0])
				return
			}
			require.Equal(t, tt.want, got[0])
		})
	}
}

// TestMedian_OrderDoesNotMatter checks the rule's determinism: every rotation of the
// candidates gives the same winner.
func TestMedian_OrderDoesNotMatter(t *testing.T) {
	cands := []host.Candidate{candidate(1, 5, 1), candidate(2, 5, 2), candidate(3, 1, 3), candidate(4, 9, 4), candidate(5, 5, 5, 6)}
	var want [32]byte
	for r := range cands {
		rot := append(append([]host.Candidate{}, cands[r:]...), cands[:r]...)
		got, err := sdktest.Native(Median, []host.Group{{Subject: "s", Predicate: "p", Candidates: rot}})
		require.NoError(t, err)
		require.Len(t, got[0], 1)
		if r == 0 {
			want = rot[got[0][0]].Hash
		}
		require.Equal(t, want, rot[got[0][0]].Hash, "rotation %d", r)
	}
}
