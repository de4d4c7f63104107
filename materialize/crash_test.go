package materialize_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// cutLenses wraps the reference lenses so that cut runs ahead of every call: the place
// to pull the plug at a chosen point of a run.
func cutLenses(t testing.TB, cut func()) map[string]host.Resolver {
	out := refLenses(t)
	for name, r := range out {
		out[name] = hook{Resolver: r, before: cut}
	}
	return out
}

// cleanDigest ingests recs into a fresh database, materializes them without
// interruption and returns the digest.
func cleanDigest(t *testing.T, recs ...[]assertion.Record) string {
	t.Helper()
	db, _ := openDB(t)
	in := newIngester(t, db)
	for _, r := range recs {
		in.apply(t, r)
	}
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	run(t, m)
	waitFor(t, m, in.off)
	d, err := materialize.Digest(context.Background(), db.ReadDB())
	require.NoError(t, err)
	return d
}

// TestCrash_ResumesToSameDigest stops Run at assorted points (ctx cancelled before the
// n-th lens call, or after a random delay, which may land inside a commit), closes and
// reopens the database, ingests more, runs again, and checks that the result is the
// digest of an uninterrupted run.
func TestCrash_ResumesToSameDigest(t *testing.T) {
	w := newWorld(10, 200)
	first, second := w.records(500), w.records(200)
	want := cleanDigest(t, first, second)

	type cut struct {
		name    string
		at      func(cancel context.CancelFunc) func() // returns the hook run before each call
		mustCut bool
	}
	var cuts []cut
	for _, n := range []int64{1, 7, 25, 45} {
		cuts = append(cuts, cut{fmt.Sprintf("before call %d", n), func(cancel context.CancelFunc) func() {
			var calls atomic.Int64
			return func() {
				if calls.Add(1) == n {
					cancel()
				}
			}
		}, true})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		delay := time.Duration(rng.IntN(6_000)) * time.Microsecond
		cuts = append(cuts, cut{fmt.Sprintf("after %v", delay), func(cancel context.CancelFunc) func() {
			time.AfterFunc(delay, cancel)
			return func() {}
		}, false})
	}

	for _, cut := range cuts {
		t.Run(cut.name, func(t *testing.T) {
			ctx := context.Background()
			db, path := openDB(t)
			in := newIngester(t, db)
			in.apply(t, first)

			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			m := newMaterializer(t, db, materialize.Options{ChunkSize: 16}, cutLenses(t, cut.at(cancel)))
			done := make(chan error, 1)
			go func() { done <- m.Run(runCtx) }()
			_ = m.WaitMaterialized(runCtx, in.off) // the cut, or the end if the cut comes too late
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			left := len(dirtyIDs(t, db))
			t.Logf("cut with %d dirty groups left", left)
			if cut.mustCut {
				require.Positive(t, left, "the cut came after the work: move it earlier")
			}
			require.NoError(t, db.Close())

			db, err := sqlview.Open(ctx, path, sqlview.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			in = newIngester(t, db)
			in.apply(t, second)
			m = newMaterializer(t, db, materialize.Options{ChunkSize: 16}, refLenses(t))
			run(t, m)
			m.Notify()
			waitFor(t, m, in.off)
			got, err := materialize.Digest(ctx, db.ReadDB())
			require.NoError(t, err)
			require.Equal(t, want, got)
			requireResolvedIsFromScratch(t, db)
		})
	}
}
