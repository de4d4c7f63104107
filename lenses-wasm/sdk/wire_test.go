package sdk_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

func header(agents, groups, cands, signers uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, agents)
	b = binary.LittleEndian.AppendUint32(b, groups)
	b = binary.LittleEndian.AppendUint32(b, cands)
	return binary.LittleEndian.AppendUint32(b, signers)
}

func TestBatch_DecodeRefusals(t *testing.T) {
	tests := map[string][]byte{
		"short":                  {1, 2, 3},
		"counts past the input":  header(1000, 0, 0, 0),
		"group past the end":     header(0, 1, 0, 0),
		"trailing bytes":         append(header(0, 0, 0, 0), 1),
		"candidates over header": append(header(0, 1, 0, 0), binary.LittleEndian.AppendUint32(make([]byte, 8), 1)...),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			var b sdk.Batch
			require.ErrorIs(t, b.Decode(in), sdk.ErrMalformedInput)
		})
	}
}

func TestResolver_ChecksRules(t *testing.T) {
	in := append(header(0, 1, 1, 0), binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0), 0), 1)...)
	in = append(in, make([]byte, 64)...)
	var r sdk.Resolver
	ok := r.Resolve(func(*sdk.Group) []int { return []int{0} }, in)
	require.Equal(t, []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, ok)

	for name, rule := range map[string]sdk.Rule{
		"out of range": func(*sdk.Group) []int { return []int{1} },
		"twice":        func(*sdk.Group) []int { return []int{0, 0} },
		"panic":        func(*sdk.Group) []int { panic(errors.New("boom")) },
	} {
		out := r.Resolve(rule, in)
		require.Equal(t, sdk.StatusError, binary.LittleEndian.Uint32(out), name)
	}
}

func TestRegistry_Names(t *testing.T) {
	var reg sdk.Registry
	rule := func(*sdk.Group) []int { return nil }
	require.NoError(t, reg.Add("Median", rule))
	require.Error(t, reg.Add("median", rule), "case-insensitive duplicate")
	require.Error(t, reg.Add("1x", rule))
	require.Error(t, reg.Add("ok", nil))
	require.Equal(t, []byte{1, 0, 0, 0, 6, 0, 0, 0, 'M', 'e', 'd', 'i', 'a', 'n'}, reg.AppendNames(nil))
}

// FuzzBatchDecode: arbitrary bytes must never panic the guest's decoder.
func FuzzBatchDecode(f *testing.F) {
	f.Add(header(0, 0, 0, 0))
	f.Add(header(1, 1, 1, 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		var b sdk.Batch
		_ = b.Decode(in)
	})
}
