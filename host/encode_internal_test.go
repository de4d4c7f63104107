package host

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// TestEncode_PrefixCollision interns agents whose first 8 bytes agree.
func TestEncode_PrefixCollision(t *testing.T) {
	a, b, c := [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 10}, [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 11}
	g := []Group{{Candidates: []Candidate{{Signers: []Signer{
		{Agent: c, Trust: 3}, {Agent: a, Trust: 1}, {Agent: b, Trust: 2}, {Agent: c, Trust: 3}, {Agent: b, Trust: 2},
	}}}}}
	var e encoder
	for range 2 { // the second round reuses the encoder's tables
		in, err := e.encode(g)
		require.NoError(t, err)
		var batch sdk.Batch
		require.NoError(t, batch.Decode(in))
		require.Equal(t, []sdk.Agent{{ID: a, Trust: 1}, {ID: b, Trust: 2}, {ID: c, Trust: 3}}, batch.Agents)
		var got []uint32
		for _, s := range batch.Groups[0].Candidates[0].Signers {
			got = append(got, s.Agent)
		}
		require.Equal(t, []uint32{2, 0, 1, 2, 1}, got)
	}
}
