package host

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// BenchmarkInstantiate measures starting one instance of the built-in module (Go runtime
// initialization included), trusted and untrusted.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, NewConfig().WithCompilationCacheDir(b.TempDir()))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, rt.Close(ctx)) })
	trusted, err := rt.LoadBuiltins(ctx)
	require.NoError(b, err)
	untrusted, err := rt.Load(ctx, lenseswasm.Builtins())
	require.NoError(b, err)
	for _, m := range []struct {
		name string
		mod  *Module
	}{{"trusted", trusted}, {"untrusted", untrusted}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in, err := m.mod.instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				in.close(ctx)
			}
		})
	}
}

// benchInput is 1,000 groups of 1..20 candidates shaped like lensref.RandomGroups (which
// this package's internal tests cannot import).
func benchInput() []Group {
	rng := rand.New(rand.NewPCG(2024, 2))
	agents := make([][32]byte, 12)
	for i := range agents {
		agents[i][0], agents[i][1] = byte(rng.Uint32()), byte(i)
	}
	groups := make([]Group, 1000)
	for gi := range groups {
		nObj := 1 + rng.IntN(6)
		for range 1 + rng.IntN(20) {
			c := Candidate{Confidence: float64(rng.IntN(8)) / 8, Object: []byte{1, byte(rng.IntN(nObj))}}
			c.Hash[0], c.Hash[1] = byte(rng.Uint32()), byte(rng.Uint32())
			for _, a := range rng.Perm(len(agents))[:1+rng.IntN(4)] {
				c.Signers = append(c.Signers, Signer{Agent: agents[a], Timestamp: uint64(rng.IntN(4)), Trust: 0.5})
			}
			groups[gi].Candidates = append(groups[gi].Candidates, c)
		}
	}
	return groups
}

// BenchmarkCall splits a WASM Resolve into its host encoding, the guest call alone, and
// the host's output decoding, to show where the time goes.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	groups := benchInput()
	var enc encoder
	input, err := enc.encode(groups)
	require.NoError(b, err)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(input)))
		for b.Loop() {
			if _, err := enc.encode(groups); err != nil {
				b.Fatal(err)
			}
		}
	})
	rt, err := NewRuntime(ctx, NewConfig().WithCompilationCacheDir(b.TempDir()))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, rt.Close(ctx)) })
	m, err := rt.LoadBuiltins(ctx)
	require.NoError(b, err)
	in, err := m.instantiate(ctx)
	require.NoError(b, err)
	input, err = enc.encode(groups)
	require.NoError(b, err)
	for i, name := range m.info.Lenses {
		b.Run("guest/"+name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(input)))
			for b.Loop() {
				if _, err := in.call(ctx, uint32(i), input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	out, err := in.call(ctx, 5, input) // All: the largest output
	require.NoError(b, err)
	out = append([]byte(nil), out...)
	b.Run("decode/All", func(b *testing.B) {
		b.ReportAllocs()
		results := make([][]int, len(groups))
		for b.Loop() {
			if err := in.decoder.decode(out, groups, results); err != nil {
				b.Fatal(err)
			}
		}
	})
}
