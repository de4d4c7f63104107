package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/sqlview"
)

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestIngest_TailsAndNotifies(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	ctx := waitCtx(t)
	log := newMemLog()

	var mu sync.Mutex
	var notified []uint64
	wake := make(chan struct{}, 1)
	in, stop := runIngest(t, db, log, ingest.Options{OnApplied: func(off uint64) {
		mu.Lock()
		notified = append(notified, off)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}})

	// Records appended while ingest waits for them.
	for i := range 5 {
		end := log.AppendRecords(signed(number("s", "p", float64(i), 0.5), 100, "alice"))
		require.NoError(t, in.WaitApplied(ctx, end))
		st, err := db.State(ctx)
		require.NoError(t, err)
		require.Equal(t, end, st.IngestedOffset)
		require.Equal(t, int64(i+1), st.Assertions)
		require.Equal(t, end, in.Applied())
	}
	select {
	case <-wake:
	case <-ctx.Done():
		t.Fatal("no notification")
	}
	mu.Lock()
	require.NotEmpty(t, notified)
	require.Equal(t, log.End(), notified[len(notified)-1])
	mu.Unlock()

	// WaitApplied gives up with its context.
	short, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, in.WaitApplied(short, log.End()+1), context.Canceled)

	require.NoError(t, stop())
	require.NoError(t, in.Err())
}

func TestIngest_DecodeErrorStops(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	ctx := waitCtx(t)
	log := newMemLog()
	good := log.AppendRecords(signed(number("s", "p", 1, 0.5), 100, "alice"))
	bad := log.End()
	log.Append([]byte{assertion.PayloadVersion, byte(assertion.KindVote), 1, 2, 3}) // truncated vote
	end := log.AppendRecords(signed(number("s", "p", 2, 0.5), 100, "alice"))

	in := ingest.New(db, log, ingest.Options{})
	err := in.Run(ctx)
	require.ErrorIs(t, err, ingest.ErrDecode)
	require.ErrorIs(t, err, assertion.ErrMalformed)
	require.Contains(t, err.Error(), fmt.Sprintf("offset %d", bad), "the error names the record")
	require.ErrorIs(t, in.Err(), ingest.ErrDecode)
	require.ErrorIs(t, in.WaitApplied(ctx, end), ingest.ErrDecode, "waiters learn that the offset will not come")
	require.Equal(t, good, in.Applied(), "records before the bad one are applied")
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, good, st.IngestedOffset)
	require.Equal(t, int64(1), st.Assertions)
}

func TestIngest_ReadErrorStops(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	log := newMemLog()
	first := log.AppendRecords(signed(number("s", "p", 1, 0.5), 100, "alice"))
	log.AppendRecords(signed(number("s", "p", 2, 0.5), 100, "alice"))
	corrupt := errors.New("corrupt record")
	log.failAt = map[uint64]error{first: corrupt}
	in := ingest.New(db, log, ingest.Options{})
	require.ErrorIs(t, in.Run(waitCtx(t)), corrupt)
	require.Equal(t, first, in.Applied())
}

func TestIngest_ForeignKinds(t *testing.T) {
	ctx := waitCtx(t)
	log := newMemLog()
	log.AppendRecords(signed(number("s", "p", 1, 0.5), 100, "alice"))
	foreignAt := log.End()
	log.Append([]byte{assertion.PayloadVersion, 200, 'x'}) // kind 200: another owner's
	end := log.AppendRecords(signed(number("s", "p", 2, 0.5), 100, "alice"))

	t.Run("skipped", func(t *testing.T) {
		db := openDB(t, "")
		defer db.Close()
		in, stop := runIngest(t, db, log, ingest.Options{})
		require.NoError(t, in.WaitApplied(ctx, end))
		require.NoError(t, stop())
	})
	t.Run("handed to Foreign in the batch transaction", func(t *testing.T) {
		db := openDB(t, "")
		defer db.Close()
		var seen []uint64
		in, stop := runIngest(t, db, log, ingest.Options{
			Foreign: func(ctx context.Context, tx *sqlview.Tx, e ingest.Entry) error {
				seen = append(seen, e.Offset)
				return nil
			}})
		require.NoError(t, in.WaitApplied(ctx, end))
		require.NoError(t, stop())
		require.Equal(t, []uint64{foreignAt}, seen)
	})
}

// TestIngest_RetriesFailedBatch fails a batch's transaction once: it must be rolled
// back and retried, with no trace of the failed attempt (caches included).
func TestIngest_RetriesFailedBatch(t *testing.T) {
	ctx := waitCtx(t)
	rng := rand.New(rand.NewPCG(7, 8))
	recs := generated(rng, 300)
	log := newMemLog()
	for i, r := range recs {
		log.AppendRecords(r)
		if i == 150 {
			log.Append([]byte{assertion.PayloadVersion, 200}) // where the failure strikes
		}
	}
	want := cleanPass(t, log)

	db := openDB(t, "")
	defer db.Close()
	failures := 0
	in, stop := runIngest(t, db, log, ingest.Options{
		MaxBatchRecords: 64,
		Foreign: func(context.Context, *sqlview.Tx, ingest.Entry) error {
			if failures < 2 {
				failures++
				return errors.New("disk full")
			}
			return nil
		}})
	require.NoError(t, in.WaitApplied(ctx, log.End()))
	require.NoError(t, stop())
	require.Equal(t, 2, failures)
	require.NoError(t, in.Err(), "the error clears once the batch commits")
	require.Equal(t, want, dbState(t, db))
}

// TestIngest_CrashSafety stops ingest at random points, closes and reopens the database,
// and carries on: the tables must end as after one clean pass.
func TestIngest_CrashSafety(t *testing.T) {
	ctx := waitCtx(t)
	rng := rand.New(rand.NewPCG(9, 10))
	log := newMemLog()
	for _, r := range generated(rng, 600) {
		log.AppendRecords(r)
	}
	want := cleanPass(t, log)

	path := filepath.Join(t.TempDir(), "stemedb.sqlite")
	for round := 0; ; round++ {
		db := openDB(t, path)
		in, stop := runIngest(t, db, log, ingest.Options{MaxBatchRecords: 1 + rng.IntN(50)})
		// Let it get somewhere, then pull the plug wherever it is.
		target := log.entries[min(len(log.entries)-1, (round+1)*len(log.entries)/5)].End
		require.NoError(t, in.WaitApplied(ctx, target))
		require.NoError(t, stop())
		require.NoError(t, db.Close())
		if target == log.End() {
			break
		}
	}
	db := openDB(t, path)
	defer db.Close()
	require.Equal(t, want, dbState(t, db))
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, log.End(), st.IngestedOffset)
}

// TestIngest_ReadFailureThenResume stops ingest with a read error in the middle of the
// log and resumes it after reopening.
func TestIngest_ReadFailureThenResume(t *testing.T) {
	ctx := waitCtx(t)
	rng := rand.New(rand.NewPCG(11, 12))
	log := newMemLog()
	for _, r := range generated(rng, 200) {
		log.AppendRecords(r)
	}
	want := cleanPass(t, log)

	path := filepath.Join(t.TempDir(), "stemedb.sqlite")
	db := openDB(t, path)
	mid := log.entries[100].Offset
	log.failAt = map[uint64]error{mid: errors.New("torn")}
	in := ingest.New(db, log, ingest.Options{MaxBatchRecords: 7})
	require.Error(t, in.Run(ctx))
	require.Equal(t, mid, in.Applied())
	require.NoError(t, db.Close())

	log.failAt = nil
	db = openDB(t, path)
	defer db.Close()
	in, stop := runIngest(t, db, log, ingest.Options{})
	require.NoError(t, in.WaitApplied(ctx, log.End()))
	require.NoError(t, stop())
	require.Equal(t, want, dbState(t, db))
}

// cleanPass ingests the whole log into a fresh database in one run and returns its
// state.
func cleanPass(t *testing.T, log *memLog) string {
	t.Helper()
	failAt := log.failAt
	log.failAt = nil
	defer func() { log.failAt = failAt }()
	db := openDB(t, "")
	defer db.Close()
	in, stop := runIngest(t, db, log, ingest.Options{})
	require.NoError(t, in.WaitApplied(waitCtx(t), log.End()))
	require.NoError(t, stop())
	return dbState(t, db)
}
