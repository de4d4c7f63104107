package materialize_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
)

// benchRecords returns the records of n groups of 1..20 candidates each: one assert
// record per group holding all its candidates, each signed by 1..4 of 64 agents, with
// one or two votes on a quarter of the candidates. Objects, confidences and timestamps come
// from small sets, so groups have real contests and ties. Signatures are random bytes:
// the applier does not verify them (the door does), and signing a million assertions
// would dominate the set-up.
func benchRecords(seed uint64, n int) []assertion.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	agents := make([]assertion.AgentID, 64)
	for i := range agents {
		fill(rng, agents[i][:])
	}
	sig := func() (s assertion.Sig) {
		fill(rng, s[:])
		return s
	}
	confidences := []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1}
	var recs []assertion.Record
	for g := range n {
		subject := "entity-" + strconv.Itoa(g/4)
		predicate := "attr-" + strconv.Itoa(g%4)
		nc := 1 + rng.IntN(20)
		nObjects := 1 + rng.IntN(4)
		rec := assertion.Record{Kind: assertion.KindAssert}
		for c := range nc {
			a := assertion.Assertion{Claim: assertion.Claim{
				Subject: subject, Predicate: predicate,
				Object:     assertion.Object{Type: assertion.TypeNumber, Number: float64(rng.IntN(nObjects))},
				Confidence: confidences[rng.IntN(len(confidences))],
			}}
			// Distinct claims within a group: the source tells equal objects apart.
			a.Claim.Source[0], a.Claim.Source[1] = byte(c), 1
			for _, i := range rng.Perm(len(agents))[:1+rng.IntN(4)] {
				a.Signatures = append(a.Signatures, assertion.Signature{
					Agent: agents[i], Sig: sig(), Timestamp: 1_764_000_000 + uint64(rng.IntN(1000))})
			}
			rec.Assertions = append(rec.Assertions, a)
		}
		recs = append(recs, rec)
		for c := range nc {
			if rng.IntN(4) != 0 {
				continue
			}
			h := rec.Assertions[c].Claim.Hash()
			for range 1 + rng.IntN(2) {
				recs = append(recs, assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
					Assertion: h, Agent: agents[rng.IntN(len(agents))], Value: int8(rng.IntN(3) - 1),
					Timestamp: 1_764_000_000 + uint64(rng.IntN(1000)), Sig: sig()}})
			}
		}
	}
	return recs
}

// applyBatched applies recs through the applier in transactions of batch records.
func applyBatched(tb testing.TB, in *ingester, recs []assertion.Record, batch int) {
	tb.Helper()
	for start := 0; start < len(recs); start += batch {
		in.apply(tb, recs[start:min(start+batch, len(recs))])
	}
}

// BenchmarkChunk is one chunk of 512 groups through every built-in lens: load the
// candidates, resolve (the six lenses in parallel), compare with and rewrite the
// `resolved` rows. After the first iteration the rows are already right, so this is
// the steady cost of re-resolving unchanged groups.
func BenchmarkChunk(b *testing.B) {
	for _, tc := range []struct {
		name   string
		lenses func(testing.TB) map[string]host.Resolver
	}{{"wasm", wasmLenses}, {"reference", refLenses}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := openDB(b)
			in := newIngester(b, db)
			applyBatched(b, in, benchRecords(1, 512), 1000)
			m := newMaterializer(b, db, materialize.Options{ChunkSize: 512}, tc.lenses(b))
			require.NoError(b, m.Backfill(ctx, host.BuiltinNames()...))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := m.Backfill(ctx, host.BuiltinNames()...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "groups/s")
		})
	}
}

// BenchmarkDirtyChunk is the incremental path: each iteration ingests one new vote in
// each of 512 groups (not timed), then Run materializes them (timed, from Notify to
// WaitMaterialized), rewriting only the rows that the votes changed.
func BenchmarkDirtyChunk(b *testing.B) {
	ctx := context.Background()
	db, _ := openDB(b)
	in := newIngester(b, db)
	recs := benchRecords(2, 512)
	applyBatched(b, in, recs, 1000)
	m := newMaterializer(b, db, materialize.Options{ChunkSize: 512}, wasmLenses(b))
	run(b, m)
	waitFor(b, m, in.off)
	var hashes []assertion.Hash
	for _, r := range recs {
		if r.Kind == assertion.KindAssert {
			hashes = append(hashes, r.Assertions[0].Claim.Hash())
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	votes := make([]assertion.Record, len(hashes))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i, h := range hashes {
			var a assertion.AgentID
			fill(rng, a[:])
			votes[i] = assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
				Assertion: h, Agent: a, Value: 1, Timestamp: 1_764_000_000}}
		}
		off := in.apply(b, votes)
		b.StartTimer()
		m.Notify()
		if err := m.WaitMaterialized(ctx, off); err != nil {
			b.Fatal(err)
		}
	}
	st := m.Stats()
	b.ReportMetric(float64(st.RowsWritten)/float64(st.Chunks), "rows-written/chunk")
	b.ReportMetric(float64(st.RowsSkipped())/float64(st.Chunks), "rows-skipped/chunk")
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}
