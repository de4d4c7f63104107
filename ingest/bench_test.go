package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/sqlview"
)

// benchShape describes a synthetic log for throughput measurements.
type benchShape struct {
	name       string
	asserts    int // assertions in the log
	perRecord  int // assertions per record (a batch write is one record)
	subjects   int // distinct subjects (0: one per assertion)
	predicates int
	agents     int
}

// benchLog builds the log of shape. Signatures are random bytes: ingest does not verify
// them (the door did), and signing would dominate the set-up time.
func benchLog(s benchShape) *memLog {
	rng := rand.New(rand.NewPCG(uint64(s.asserts), 99))
	agents := make([]assertion.AgentID, max(s.agents, 1))
	for i := range agents {
		agents[i] = agent(fmt.Sprint("bench", i))
	}
	log := newMemLog()
	batch := make([]assertion.Assertion, 0, s.perRecord)
	for i := range s.asserts {
		subj := i
		if s.subjects > 0 {
			subj = rng.IntN(s.subjects)
		}
		a := assertion.Assertion{
			Claim: assertion.Claim{
				Subject:    fmt.Sprintf("subject-%08x", uint32(subj)*2654435761), // scattered order
				Predicate:  fmt.Sprint("predicate-", i%max(s.predicates, 1)),
				Object:     assertion.Object{Type: assertion.TypeNumber, Number: float64(i)},
				Confidence: 0.9,
			},
			Signatures: []assertion.Signature{{Agent: agents[rng.IntN(len(agents))], Timestamp: 1764000000}},
		}
		for j := range a.Signatures[0].Sig {
			a.Signatures[0].Sig[j] = byte(rng.Uint32())
		}
		batch = append(batch, a)
		if len(batch) == max(s.perRecord, 1) {
			log.Append(assertion.AppendAssertRecord(nil, batch))
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		log.Append(assertion.AppendAssertRecord(nil, batch))
	}
	return log
}

type benchResult struct {
	elapsed time.Duration
	asserts int
	rows    int64 // rows written to base tables
}

func (r benchResult) assertsPerSec() float64 { return float64(r.asserts) / r.elapsed.Seconds() }
func (r benchResult) rowsPerSec() float64    { return float64(r.rows) / r.elapsed.Seconds() }

// runBench ingests log into a fresh database and times it from start to the last
// offset applied.
func runBench(tb testing.TB, log *memLog, asserts int, dbOpts sqlview.Options, opts ingest.Options) benchResult {
	ctx := context.Background()
	db, err := sqlview.Open(ctx, filepath.Join(tb.TempDir(), "stemedb.sqlite"), dbOpts)
	require.NoError(tb, err)
	defer db.Close()
	in := ingest.New(db, log, opts)
	runtime.GC() // not the garbage of building the log
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- in.Run(rctx) }()
	require.NoError(tb, in.WaitApplied(ctx, log.End()))
	elapsed := time.Since(start)
	cancel()
	require.NoError(tb, <-done)

	var rows int64
	require.NoError(tb, db.ReadDB().QueryRow(`SELECT
		(SELECT count(*) FROM assertion_rows) + (SELECT count(*) FROM sign_acts) +
		(SELECT count(*) FROM claim_groups) + (SELECT count(*) FROM agent_rows)`).Scan(&rows))
	return benchResult{elapsed: elapsed, asserts: asserts, rows: rows}
}

// BenchmarkIngest measures asserts applied per second for distinct single-signature
// assertions, one per record, each in a new (subject, predicate) group: the write
// path's common case and ingest's worst (every assertion is a random insert into the
// hash and group indexes).
func BenchmarkIngest(b *testing.B) {
	shape := benchShape{asserts: b.N, perRecord: 1, predicates: 8, agents: 16}
	log := benchLog(shape)
	var bytes int64
	for _, e := range log.entries {
		bytes += int64(len(e.Payload))
	}
	b.SetBytes(bytes / int64(max(b.N, 1)))
	b.ReportAllocs()
	b.ResetTimer()
	r := runBench(b, log, b.N, sqlview.Options{}, ingest.Options{})
	b.ReportMetric(r.assertsPerSec(), "asserts/s")
	b.ReportMetric(r.rowsPerSec(), "rows/s")
}
