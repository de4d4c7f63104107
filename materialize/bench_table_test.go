//go:build bench

package materialize_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// benchGroups is the size of the table's database.
const benchGroups = 100_000

// TestBenchTable prints the materializer's numbers for `make bench`: end-to-end
// materialization of 100,000 dirty groups of 1..20 candidates (everything ingest left
// dirty, as after a rebuild from the log) through the six built-in lenses, once through
// WASM and once through the plain-Go reference lenses, each on its own copy of the same
// base tables. ratio = WASM groups/s / reference groups/s. Then, on the WASM copy: the
// same groups again with nothing changed (everything skipped), and an incremental round
// in which 10,000 groups get a vote. Run phases are summed over chunks: load and
// resolve of one chunk overlap the commit of the one before, so they add up to more
// than the wall time.
func TestBenchTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.sqlite")

	start := time.Now()
	recs := benchRecords(42, benchGroups)
	db, err := sqlview.Open(ctx, base, sqlview.Options{})
	require.NoError(t, err)
	in := newIngester(t, db)
	applyBatched(t, in, recs, 5000)
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	fmt.Printf("== materialize: %d groups, %d assertions, %d records; base tables built in %v\n",
		benchGroups, st.Assertions, len(recs), time.Since(start).Round(time.Millisecond))
	end := in.off

	// Wall time is what a reader waits; CPU time (this process's user+sys) is the
	// steadier measure on a machine that others share, so both are shown, best of two
	// alternating runs each.
	type result struct {
		groupsPerSec, groupsPerCPUSec float64
	}
	best := func(a, b result) result {
		return result{max(a.groupsPerSec, b.groupsPerSec), max(a.groupsPerCPUSec, b.groupsPerCPUSec)}
	}
	runOnCopy := func(name string, lenses map[string]host.Resolver, sequential bool) (result, *sqlview.DB, *materialize.Materializer) {
		path := filepath.Join(dir, name+".sqlite")
		copyFile(t, base, path)
		db, err := sqlview.Open(ctx, path, sqlview.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		m := newMaterializer(t, db, materialize.Options{}, lenses)
		materialize.SetSequential(m, sequential)
		cpu0, start := processCPU(t), time.Now()
		run(t, m)
		m.Notify()
		benchWait(t, m, end)
		el, cpu := time.Since(start), processCPU(t)-cpu0
		s := m.Stats()
		require.Equal(t, uint64(benchGroups), s.GroupsMaterialized)
		printRow(name, el, cpu, float64(benchGroups)/el.Seconds(), s)
		return result{float64(benchGroups) / el.Seconds(), float64(benchGroups) / cpu.Seconds()}, db, m
	}
	w1, wdb, wm := runOnCopy("wasm (trusted built-ins) #1", wasmLenses(t), false)
	r1, rdb, _ := runOnCopy("reference (plain Go) #1", refLenses(t), false)
	dw, err := materialize.Digest(ctx, wdb.ReadDB())
	require.NoError(t, err)
	dr, err := materialize.Digest(ctx, rdb.ReadDB())
	require.NoError(t, err)
	require.Equal(t, dr, dw, "WASM and reference lenses must materialize the same rows")
	require.NoError(t, rdb.Close())
	w2, _, _ := runOnCopy("wasm (trusted built-ins) #2", wasmLenses(t), false)
	r2, _, _ := runOnCopy("reference (plain Go) #2", refLenses(t), false)
	wasm, ref := best(w1, w2), best(r1, r2)
	fmt.Printf("%-34s %.2f wall (%.0f / %.0f groups/s), %.2f cpu (%.0f / %.0f groups per cpu-s); target >= 0.80\n",
		"ratio wasm/reference", wasm.groupsPerSec/ref.groupsPerSec, wasm.groupsPerSec, ref.groupsPerSec,
		wasm.groupsPerCPUSec/ref.groupsPerCPUSec, wasm.groupsPerCPUSec, ref.groupsPerCPUSec)
	seq, _, _ := runOnCopy("wasm, pipeline off", wasmLenses(t), true)
	fmt.Printf("%-34s %.2f wall (best wasm vs pipeline off)\n", "pipeline speed-up", wasm.groupsPerSec/seq.groupsPerSec)

	// Nothing changed: every row is compared and skipped.
	before := wm.Stats()
	cpu0 := processCPU(t)
	start = time.Now()
	require.NoError(t, wm.Backfill(ctx, host.BuiltinNames()...))
	el := time.Since(start)
	printRow("again, unchanged (backfill)", el, processCPU(t)-cpu0, float64(benchGroups)/el.Seconds(), diff(wm.Stats(), before))

	// Incremental: a vote in each of 10,000 groups.
	before = wm.Stats()
	vin := newIngester(t, wdb)
	var votes []assertion.Record
	for i, r := range recs {
		if len(votes) == 10_000 {
			break
		}
		if r.Kind == assertion.KindAssert && i%10 == 0 {
			votes = append(votes, assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
				Assertion: r.Assertions[0].Claim.Hash(), Agent: assertion.AgentID{1, 2, 3}, Value: 1,
				Timestamp: 1_764_000_000}})
		}
	}
	off := vin.apply(t, votes)
	cpu0 = processCPU(t)
	start = time.Now()
	wm.Notify()
	benchWait(t, wm, off)
	el = time.Since(start)
	printRow("incremental, 10,000 groups voted", el, processCPU(t)-cpu0, float64(len(votes))/el.Seconds(), diff(wm.Stats(), before))
}

func printRow(name string, el, cpu time.Duration, gps float64, s materialize.Stats) {
	fmt.Printf("%-34s %8v (cpu %8v) %6.0f groups/s  rows written %8d skipped %8d  (load %v, resolve %v, commit %v)\n",
		name, el.Round(time.Millisecond), cpu.Round(time.Millisecond), gps, s.RowsWritten, s.RowsSkipped(),
		s.LoadTime.Round(time.Millisecond), s.ResolveTime.Round(time.Millisecond), s.CommitTime.Round(time.Millisecond))
}

// processCPU is the user+sys time this process has used.
func processCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// diff returns the counters of s minus those of before.
func diff(s, before materialize.Stats) materialize.Stats {
	s.RowsWritten -= before.RowsWritten
	s.WinnerRows -= before.WinnerRows
	s.LoadTime -= before.LoadTime
	s.ResolveTime -= before.ResolveTime
	s.CommitTime -= before.CommitTime
	return s
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

// benchWait waits for off with a deadline made for 100,000 groups on a busy machine.
func benchWait(t testing.TB, m *materialize.Materializer, off uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, m.WaitMaterialized(ctx, off))
}
