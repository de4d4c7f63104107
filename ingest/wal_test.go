package ingest_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/wal"
)

// TestWAL_Integration ingests from the real log, across a restart of both the log and
// the database, and compares with the in-memory log (same framing, so same offsets).
func TestWAL_Integration(t *testing.T) {
	ctx := waitCtx(t)
	rng := rand.New(rand.NewPCG(13, 14))
	recs := append(scenario(), generated(rng, 300)...)
	half := len(recs) / 2

	mem := newMemLog()
	mem.AppendRecords(recs...)
	want := cleanPass(t, mem)

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "stemedb.sqlite")
	appendAll := func(l *wal.Log, recs []assertion.Record) uint64 {
		var end uint64
		for _, r := range recs {
			pos, err := l.Append(ctx, payload(r))
			require.NoError(t, err)
			end = pos.End
		}
		return end
	}

	l, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{SegmentSize: 16 << 10})
	require.NoError(t, err)
	db := openDB(t, dbPath)
	in, stop := runIngest(t, db, ingest.WAL(l), ingest.Options{})
	end := appendAll(l, recs[:half]) // appended while ingest tails
	require.NoError(t, in.WaitApplied(ctx, end))
	require.NoError(t, stop())
	require.NoError(t, db.Close())
	require.NoError(t, l.Close())

	l, err = wal.Open(filepath.Join(dir, "wal"), wal.Options{SegmentSize: 16 << 10})
	require.NoError(t, err)
	defer l.Close()
	end = appendAll(l, recs[half:]) // appended before ingest restarts
	require.Equal(t, mem.End(), end)
	db = openDB(t, dbPath)
	defer db.Close()
	in, stop = runIngest(t, db, ingest.WAL(l), ingest.Options{})
	require.NoError(t, in.WaitApplied(ctx, end))
	require.NoError(t, stop())

	require.Equal(t, want, dbState(t, db))
	// Offsets are the real log's record ends.
	var first int64
	require.NoError(t, db.ReadDB().QueryRowContext(context.Background(),
		`SELECT "offset" FROM assertions WHERE hash = ?`, claimX.Hash().String()).Scan(&first))
	require.Equal(t, int64(mem.entries[0].End), first)
}
