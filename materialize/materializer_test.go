package materialize_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
)

// TestIncremental_EqualsFromScratch ingests random records in many small batches while
// Run materializes them, woken by Notify, and checks that `resolved` then equals a
// from-scratch computation by the reference lenses, and that a second database that
// ingests the same records at once and is backfilled whole has the same digest.
func TestIncremental_EqualsFromScratch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lenses func(testing.TB) map[string]host.Resolver
	}{
		{"wasm", wasmLenses},
		{"reference", refLenses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := openDB(t)
			m := newMaterializer(t, db, materialize.Options{ChunkSize: 16}, tc.lenses(t))
			run(t, m)
			in := newIngester(t, db)
			w := newWorld(1, 150)
			var all []assertion.Record
			for i := range 40 {
				recs := w.records(25)
				all = append(all, recs...)
				off := in.apply(t, recs)
				m.Notify()
				if i%8 == 7 { // sometimes wait, sometimes let batches pile up
					waitFor(t, m, off)
				}
			}
			waitFor(t, m, in.off)
			require.Empty(t, dirtyIDs(t, db))
			requireResolvedIsFromScratch(t, db)
			st := m.Stats()
			require.Equal(t, in.off, st.MaterializedOffset)
			require.Positive(t, st.RowsWritten)
			require.Positive(t, st.RowsSkipped(), "re-resolving a changed group leaves most rows as they are")
			require.Less(t, st.ResultsChanged, st.Results)
			state, err := db.State(ctx)
			require.NoError(t, err)
			require.Equal(t, in.off, state.MaterializedOffset, "the offset is durable, not only in memory")

			// Rebuild: the same records at once, then every lens backfilled from scratch.
			db2, _ := openDB(t)
			in2 := newIngester(t, db2)
			in2.apply(t, all)
			m2 := newMaterializer(t, db2, materialize.Options{ChunkSize: 64}, tc.lenses(t))
			require.NoError(t, m2.Backfill(ctx, host.BuiltinNames()...))
			d1, err := materialize.Digest(ctx, db.ReadDB())
			require.NoError(t, err)
			d2, err := materialize.Digest(ctx, db2.ReadDB())
			require.NoError(t, err)
			require.Equal(t, d1, d2)
		})
	}
}

// TestRun_NotifyWakes: Run sleeps until notified; a Notify after each ingest batch is
// all it takes to reach the batch's offset, and Notify never blocks.
func TestRun_NotifyWakes(t *testing.T) {
	db, _ := openDB(t)
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	for range 1000 {
		m.Notify() // nobody is listening yet: must not block
	}
	run(t, m)
	in := newIngester(t, db)
	w := newWorld(2, 50)
	for range 5 {
		off := in.apply(t, w.records(20))
		m.Notify()
		waitFor(t, m, off)
	}
	requireResolvedIsFromScratch(t, db)
}

// TestRun_OffsetAdvancesWithoutDirtyGroups: records that change no group (here, a
// vote for an assertion not seen yet) still move the materialized offset, or a reader
// waiting for that write's offset would wait forever.
func TestRun_OffsetAdvancesWithoutDirtyGroups(t *testing.T) {
	db, _ := openDB(t)
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	run(t, m)
	in := newIngester(t, db)
	w := newWorld(3, 10)
	first := in.apply(t, w.records(10))
	m.Notify()
	waitFor(t, m, first)
	early := w.claim()
	early.Subject = "never-asserted"
	rec := assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
		Assertion: early.Hash(), Agent: w.agents[0], Value: 1, Timestamp: w.ts(), Sig: w.sig()}}
	off := in.apply(t, []assertion.Record{rec})
	require.Empty(t, dirtyIDs(t, db), "the early vote changes no group")
	m.Notify()
	waitFor(t, m, off)
}

// TestWaitMaterialized_Context: a wait for an offset never reached returns the
// context's error when it ends; an offset already reached returns at once.
func TestWaitMaterialized_Context(t *testing.T) {
	db, _ := openDB(t)
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	run(t, m)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := m.WaitMaterialized(ctx, 1<<40)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), waitLimit)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, m.WaitMaterialized(ctx, 1), context.Canceled)
	require.NoError(t, m.WaitMaterialized(ctx, 0), "reached offsets do not wait, even on a done context")

	// Many waiters, each for its own offset, all released by the advances.
	in := newIngester(t, db)
	w := newWorld(4, 20)
	offs := []uint64{in.off + 100, in.off + 1000, in.off + 2000}
	errs := make(chan error, len(offs))
	for _, off := range offs {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			errs <- m.WaitMaterialized(ctx, off)
		}()
	}
	for range 3 {
		in.apply(t, w.records(10))
		m.Notify()
	}
	for range offs {
		require.NoError(t, <-errs)
	}
}

// TestRun_OnlyOne: a second Run is refused while one is active.
func TestRun_OnlyOne(t *testing.T) {
	db, _ := openDB(t)
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	in := newIngester(t, db)
	off := in.apply(t, newWorld(5, 10).records(20))
	run(t, m)
	waitFor(t, m, off) // the first pass needs no Notify: it finds the work left over
	require.ErrorIs(t, m.Run(context.Background()), materialize.ErrRunning)
}

// TestRemoveLens drops a lens's rows and keeps the others'.
func TestRemoveLens(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	in := newIngester(t, db)
	in.apply(t, newWorld(6, 30).records(60))
	run(t, m)
	waitFor(t, m, in.off)
	require.NotEmpty(t, resolvedRows(t, db, "All"))

	require.NoError(t, m.RemoveLens(ctx, "All"))
	require.Empty(t, resolvedRows(t, db, "All"))
	require.NotContains(t, m.Lenses(), "All")
	requireResolvedIsFromScratch(t, db, "Latest", "Consensus")
	require.ErrorIs(t, m.RemoveLens(ctx, "All"), materialize.ErrUnknownLens)

	// Later chunks leave it out.
	in.apply(t, newWorld(7, 30).records(60))
	m.Notify()
	waitFor(t, m, in.off)
	require.Empty(t, resolvedRows(t, db, "All"))
	requireResolvedIsFromScratch(t, db, "Latest", "Consensus", "VoteAwareConsensus")
}

// TestNew_Options refuses bad options.
func TestNew_Options(t *testing.T) {
	db, _ := openDB(t)
	_, err := materialize.New(context.Background(), db, materialize.Options{ChunkSize: -1})
	require.Error(t, err)
	_, err = materialize.New(context.Background(), db, materialize.Options{RetryMin: time.Second, RetryMax: time.Millisecond})
	require.Error(t, err)
}
