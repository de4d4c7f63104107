package materialize_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// TestBackfill_NewLens: a lens added to a materialized database gets rows for every
// group, not only for those that change afterwards, with its progress in Stats.
func TestBackfill_NewLens(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	lenses := wasmLenses(t)
	all := lenses["All"]
	delete(lenses, "All")
	m := newMaterializer(t, db, materialize.Options{ChunkSize: 32}, lenses)
	in := newIngester(t, db)
	in.apply(t, newWorld(11, 150).records(400))
	run(t, m)
	waitFor(t, m, in.off)
	require.Empty(t, resolvedRows(t, db, "All"))

	require.ErrorIs(t, m.Backfill(ctx, "All"), materialize.ErrUnknownLens)
	lenses["All"] = all
	m.SetLenses(lenses)
	require.NoError(t, m.Backfill(ctx, "All"))
	requireResolvedIsFromScratch(t, db)
	bs := m.Stats().Backfills["All"]
	require.True(t, bs.Finished)
	require.False(t, bs.Running)
	require.Equal(t, int64(len(allGroupIDs(t, db))), bs.Total)
	require.Equal(t, bs.Total, bs.Done)
	cursors, err := sqlview.BackfillCursors(ctx, db.ReadDB())
	require.NoError(t, err)
	require.Empty(t, cursors)
}

// TestBackfill_ResumesAfterCrash: a backfill cut short leaves its cursor behind; the
// next process's Run picks it up from there once the lens is in the set again.
func TestBackfill_ResumesAfterCrash(t *testing.T) {
	ctx := context.Background()
	db, path := openDB(t)
	in := newIngester(t, db)
	in.apply(t, newWorld(12, 300).records(600))

	// Materialize every lens but TrustWeighted, as an older version of the node would.
	lenses := refLenses(t)
	delete(lenses, "TrustWeighted")
	m := newMaterializer(t, db, materialize.Options{ChunkSize: 16}, lenses)
	stop := run(t, m)
	waitFor(t, m, in.off)
	stop()

	// Backfill TrustWeighted, cut at its 5th call.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var calls atomic.Int64
	ref := refLenses(t)["TrustWeighted"]
	lenses["TrustWeighted"] = hook{Resolver: ref, before: func() {
		if calls.Add(1) == 5 {
			cancel()
		}
	}}
	m.SetLenses(lenses)
	require.ErrorIs(t, m.Backfill(bctx, "TrustWeighted"), context.Canceled)
	cursors, err := sqlview.BackfillCursors(ctx, db.ReadDB())
	require.NoError(t, err)
	require.Contains(t, cursors, "TrustWeighted")
	require.Positive(t, cursors["TrustWeighted"], "four chunks committed")
	require.NoError(t, db.Close())

	// The next process resumes it, counting only the groups left.
	db, err = sqlview.Open(ctx, path, sqlview.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	var resumed atomic.Int64
	lenses = refLenses(t)
	lenses["TrustWeighted"] = hook{Resolver: ref, before: func() { resumed.Add(1) }}
	m = newMaterializer(t, db, materialize.Options{ChunkSize: 16}, lenses)
	run(t, m)
	require.Eventually(t, func() bool { return m.Stats().Backfills["TrustWeighted"].Finished }, waitLimit, time.Millisecond)
	requireResolvedIsFromScratch(t, db)
	groups := int64(len(allGroupIDs(t, db)))
	require.Less(t, resumed.Load(), (groups+15)/16, "the resumed walk skips the chunks done before the cut")
	require.Less(t, m.Stats().Backfills["TrustWeighted"].Total, groups)
	cursors, err = sqlview.BackfillCursors(ctx, db.ReadDB())
	require.NoError(t, err)
	require.Empty(t, cursors)
}

// TestBackfill_FailuresBecomeDirty: groups a lens fails on during a backfill are left
// to the dirty walk, which retries them.
func TestBackfill_FailuresBecomeDirty(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	in := newIngester(t, db)
	off := in.apply(t, newWorld(13, 120).records(300))
	lenses := refLenses(t)
	m := newMaterializer(t, db, materialize.Options{ChunkSize: 16, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond}, lenses)
	stop := run(t, m)
	waitFor(t, m, off)
	stop()

	f := &failing{Resolver: lenses["Latest"], name: "Latest", bad: badSubject}
	f.failing.Store(true)
	lenses["Latest"] = f
	m.SetLenses(lenses)
	require.NoError(t, m.Backfill(ctx, "Latest"))
	require.NotEmpty(t, dirtyIDs(t, db))
	require.Positive(t, m.Stats().Lenses["Latest"].Failures)

	f.failing.Store(false)
	run(t, m)
	require.Eventually(t, func() bool { return len(dirtyIDs(t, db)) == 0 }, waitLimit, time.Millisecond)
	requireResolvedIsFromScratch(t, db)
}

// TestBackfill_NewerRequestTakesOver: a Backfill of a lens being backfilled stops the
// older walk and starts over; the older call reports why it stopped.
func TestBackfill_NewerRequestTakesOver(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	in := newIngester(t, db)
	in.apply(t, newWorld(14, 200).records(400))
	lenses := refLenses(t)
	started := make(chan struct{})
	lenses["All"] = &blockFirst{Resolver: lenses["All"], started: started}
	m := newMaterializer(t, db, materialize.Options{ChunkSize: 16}, lenses)
	older := make(chan error, 1)
	go func() { older <- m.Backfill(ctx, "All", "Latest") }()
	<-started // the older walk is inside its first call, which ends only when stopped
	newer := make(chan error, 1)
	go func() { newer <- m.Backfill(ctx, "All") }()
	require.ErrorIs(t, <-older, materialize.ErrBackfillStopped)
	require.NoError(t, <-newer)
	// Latest, dropped by the stopped walk, resumes under Run.
	run(t, m)
	require.Eventually(t, func() bool { return m.Stats().Backfills["Latest"].Finished }, waitLimit, time.Millisecond)
	requireResolvedIsFromScratch(t, db, "All", "Latest")
}

// blockFirst blocks its first call until the call's context ends.
type blockFirst struct {
	host.Resolver
	started chan struct{}
	once    atomic.Bool
}

func (b *blockFirst) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	if b.once.CompareAndSwap(false, true) {
		close(b.started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return b.Resolver.Resolve(ctx, groups)
}

// TestBackfill_BesideRun: a backfill of every lens while ingest keeps writing and Run
// keeps materializing: the two walks take turns on the work lock, and the end result is
// still the from-scratch one.
func TestBackfill_BesideRun(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	in := newIngester(t, db)
	w := newWorld(17, 200)
	in.apply(t, w.records(400))
	m := newMaterializer(t, db, materialize.Options{ChunkSize: 16}, refLenses(t))
	run(t, m)

	done := make(chan error, 1)
	go func() { done <- m.Backfill(ctx, host.BuiltinNames()...) }()
	for {
		in.apply(t, w.records(10))
		m.Notify()
		select {
		case err := <-done:
			require.NoError(t, err)
			waitFor(t, m, in.off)
			requireResolvedIsFromScratch(t, db)
			return
		default:
		}
	}
}
