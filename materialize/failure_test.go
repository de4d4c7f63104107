package materialize_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// badSubject picks a few groups of the test world.
func badSubject(s string) bool {
	return strings.HasPrefix(s, "subject-c") || strings.HasPrefix(s, "subject-q-x")
}

// TestLensFailure_HeldBackAndRetried: a lens that fails on some groups fails only
// there. The other lenses' rows commit for every group, the failing lens's rows for the
// other groups commit too (the chunk is split around the bad groups), the bad groups
// stay dirty, the offset stays behind them, and Stats shows it. Once the lens heals,
// the retry (on its backoff timer) brings everything up to date.
func TestLensFailure_HeldBackAndRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(host.Resolver) (host.Resolver, func())
	}{
		{"error", func(r host.Resolver) (host.Resolver, func()) {
			f := &failing{Resolver: r, name: "Consensus", bad: badSubject}
			f.failing.Store(true)
			return f, func() { f.failing.Store(false) }
		}},
		{"bad output", func(r host.Resolver) (host.Resolver, func()) {
			return badOutput{Resolver: r, bad: badSubject}, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := openDB(t)
			lenses := refLenses(t)
			bad, heal := tc.wrap(lenses["Consensus"])
			lenses["Consensus"] = bad
			m := newMaterializer(t, db, materialize.Options{ChunkSize: 32, RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond}, lenses)
			in := newIngester(t, db)
			before := in.apply(t, newWorld(8, 120).records(400))
			run(t, m)

			// Wait until every bad group failed once and everything else is done.
			var badIDs []int64
			tx, err := db.ReadDB().BeginTx(ctx, nil)
			require.NoError(t, err)
			groups, err := sqlview.LoadGroups(ctx, tx, allGroupIDs(t, db))
			require.NoError(t, err)
			require.NoError(t, tx.Rollback())
			for _, g := range groups {
				if badSubject(g.Subject) {
					badIDs = append(badIDs, g.ID)
				}
			}
			require.NotEmpty(t, badIDs)
			require.Eventually(t, func() bool {
				return slices.Equal(dirtyIDs(t, db), badIDs) && m.Stats().Lenses["Consensus"].Failures >= uint64(len(badIDs))
			}, waitLimit, time.Millisecond, "stats: %+v", m.Stats())

			st := m.Stats()
			require.Less(t, st.MaterializedOffset, before, "the offset stays behind the held-back groups")
			require.NotEmpty(t, st.Lenses["Consensus"].LastError)
			require.Zero(t, st.Lenses["Latest"].Failures)
			// Other lenses: complete. The failing lens: complete except the bad groups.
			requireResolvedIsFromScratch(t, db, "Latest", "HighestConfidence", "VoteAwareConsensus", "TrustWeighted", "All")
			want := expectedRows(t, db, "Consensus")
			want = slices.DeleteFunc(want, func(r row) bool { return badSubject(r.Subject) })
			require.Equal(t, want, resolvedRows(t, db, "Consensus"))

			// Retries keep failing (on their timer) without blocking new work.
			calls := st.Lenses["Consensus"].Calls
			require.Eventually(t, func() bool { return m.Stats().Lenses["Consensus"].Calls > calls+3 }, waitLimit, time.Millisecond)

			if heal == nil { // the lens is replaced by a good version
				m.SetLenses(refLenses(t))
			} else {
				heal()
			}
			waitFor(t, m, before)
			require.Empty(t, dirtyIDs(t, db))
			requireResolvedIsFromScratch(t, db)
			require.Zero(t, m.Stats().HeldBack)
		})
	}
}

// TestLensFailure_Persistent: held-back groups stay dirty across a restart, so a
// failure is never lost, and are retried by the next process.
func TestLensFailure_Persistent(t *testing.T) {
	ctx := context.Background()
	db, path := openDB(t)
	lenses := refLenses(t)
	f := &failing{Resolver: lenses["All"], name: "All", bad: badSubject}
	f.failing.Store(true)
	lenses["All"] = f
	m := newMaterializer(t, db, materialize.Options{RetryMin: time.Hour, RetryMax: time.Hour}, lenses)
	in := newIngester(t, db)
	off := in.apply(t, newWorld(9, 120).records(300))
	stop := run(t, m)
	require.Eventually(t, func() bool {
		return len(dirtyIDs(t, db)) > 0 && m.Stats().GroupsMaterialized > 0 && m.Stats().HeldBack == len(dirtyIDs(t, db))
	},
		waitLimit, time.Millisecond)
	stop()
	require.NoError(t, db.Close())

	db, err := sqlview.Open(ctx, path, sqlview.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NotEmpty(t, dirtyIDs(t, db))
	m = newMaterializer(t, db, materialize.Options{}, refLenses(t))
	run(t, m)
	waitFor(t, m, off)
	requireResolvedIsFromScratch(t, db)
}

func allGroupIDs(t testing.TB, db *sqlview.DB) []int64 {
	t.Helper()
	ids, err := sqlview.ListGroups(context.Background(), db.ReadDB(), 0, 1<<20)
	require.NoError(t, err)
	return ids
}

// TestLensFailure_OutcomeOncePerChunk: OnLensOutcome hears once per lens per chunk,
// however many calls the split around a bad group took, so that a registry counting
// consecutive failures sees the chunk's outcome, not the position of the bad group.
func TestLensFailure_OutcomeOncePerChunk(t *testing.T) {
	const chunk = 32
	db, _ := openDB(t)
	lenses := refLenses(t)
	f := &failing{Resolver: lenses["Consensus"], name: "Consensus", bad: badSubject}
	f.failing.Store(true)
	lenses["Consensus"] = f
	var mu sync.Mutex
	outcomes := map[string][]error{}
	m := newMaterializer(t, db, materialize.Options{ChunkSize: chunk, OnLensOutcome: func(lens string, err error) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[lens] = append(outcomes[lens], err)
	}}, lenses)
	newIngester(t, db).apply(t, newWorld(8, 120).records(400))
	groups := len(allGroupIDs(t, db))

	require.NoError(t, m.Backfill(context.Background(), "Consensus", "Latest"))
	mu.Lock()
	defer mu.Unlock()
	chunks := (groups + chunk - 1) / chunk
	require.Len(t, outcomes["Latest"], chunks)
	for _, err := range outcomes["Latest"] {
		require.NoError(t, err)
	}
	require.Len(t, outcomes["Consensus"], chunks, "one outcome per chunk")
	failed := 0
	for _, err := range outcomes["Consensus"] {
		if err != nil {
			failed++
			var le *host.LensError
			require.ErrorAs(t, err, &le)
		}
	}
	require.Positive(t, failed)
	require.Less(t, uint64(failed), m.Stats().Lenses["Consensus"].FailedCalls,
		"the split made more failing calls than there are failed chunks")
}
