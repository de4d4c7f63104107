package wal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

func TestOpen_Options(t *testing.T) {
	tests := []struct {
		name string
		opts wal.Options
		ok   bool
	}{
		{"zero value", wal.Options{}, true},
		{"negative segment size", wal.Options{SegmentSize: -1}, false},
		{"negative max record size", wal.Options{MaxRecordSize: -1}, false},
		{"max record size above u32", wal.Options{MaxRecordSize: 1 << 33}, false},
		{"negative queue size", wal.Options{QueueSize: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := wal.Open(t.TempDir(), tt.opts)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.NoError(t, l.Close())
		})
	}
}

func TestOpen_NewDirHasFirstSegment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "wal")
	l := openLog(t, dir, wal.Options{})
	assert.Equal(t, uint64(0), l.End())
	assert.Equal(t, uint64(0), l.First())
	assert.Equal(t, []string{filepath.Join(dir, "00000000000000000000.wal")}, segments(t, dir))
}

func TestOpen_Locked(t *testing.T) {
	dir := t.TempDir()
	openLog(t, dir, wal.Options{})
	_, err := wal.Open(dir, wal.Options{})
	require.ErrorIs(t, err, wal.ErrLocked)
}

func TestLog_RoundTripAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(1000))
	const n = 300
	pos := appendN(t, l, 0, n, 100)

	// Offsets are contiguous global byte positions; each record is header + payload.
	var next uint64
	for i, p := range pos {
		require.Equal(t, next, p.Offset, "record %d", i)
		require.Equal(t, p.Offset+wal.HeaderSize+100, p.End)
		next = p.End
	}
	require.Equal(t, next, l.End())
	segs := segments(t, dir)
	require.Greater(t, len(segs), 30, "small segments must rotate")

	check := func(l *wal.Log) {
		recs := readAll(t, l, 0)
		require.Len(t, recs, n)
		for i, rec := range recs {
			seq, err := checkPayload(rec.Payload)
			require.NoError(t, err)
			require.Equal(t, uint64(i), seq)
			require.Equal(t, pos[i].Offset, rec.Offset)
			require.Equal(t, pos[i].End, rec.End)
		}
		// Reading from the middle, at a record boundary in a later segment.
		recs = readAll(t, l, pos[200].Offset)
		require.Len(t, recs, n-200)
	}
	check(l)

	// Segment names are their base offsets; no segment exceeds the size, none is empty
	// but the last, and no record spans two.
	for i, s := range segs {
		fi, err := os.Stat(s)
		require.NoError(t, err)
		if i < len(segs)-1 {
			assert.LessOrEqual(t, fi.Size(), int64(1000))
			assert.Greater(t, fi.Size(), int64(0))
		}
	}

	require.NoError(t, l.Close())
	l2 := openLog(t, dir, small(1000))
	require.Equal(t, next, l2.End())
	check(l2)
	p, err := l2.Append(testCtx(t), payload(n, 100))
	require.NoError(t, err)
	require.Equal(t, next, p.Offset)
}

func TestLog_SegmentNamesAreBaseOffsets(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(500))
	pos := appendN(t, l, 0, 20, 60)
	require.NoError(t, l.Close())
	bases := map[uint64]bool{}
	for _, p := range pos {
		bases[p.Offset] = true
	}
	for _, s := range segments(t, dir) {
		name := filepath.Base(s)
		var base uint64
		for _, c := range name[:20] {
			base = base*10 + uint64(c-'0')
		}
		assert.True(t, bases[base], "segment %s must start at a record", name)
		assert.Equal(t, wal.SegmentName(base), name)
	}
}

func TestLog_RecordLargerThanSegment(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(256))
	appendN(t, l, 0, 1, 10)
	big := payload(1, 1000)
	p, err := l.Append(testCtx(t), big)
	require.NoError(t, err)
	appendN(t, l, 2, 1, 10)
	recs := readAll(t, l, 0)
	require.Len(t, recs, 3)
	require.Equal(t, big, recs[1].Payload)
	require.Equal(t, filepath.Join(dir, wal.SegmentName(p.Offset)), segments(t, dir)[1],
		"a record larger than a segment gets one of its own")
}

func TestLog_EmptyPayload(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	p, err := l.Append(testCtx(t), nil)
	require.NoError(t, err)
	require.Equal(t, wal.Position{Offset: 0, End: wal.HeaderSize}, p)
	recs := readAll(t, l, 0)
	require.Len(t, recs, 1)
	require.Empty(t, recs[0].Payload)
}

func TestLog_TooLarge(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{MaxRecordSize: 100})
	_, err := l.Append(testCtx(t), make([]byte, 101))
	require.ErrorIs(t, err, wal.ErrTooLarge)
	_, err = l.AppendBatch(testCtx(t), [][]byte{{1}, make([]byte, 101)})
	require.ErrorIs(t, err, wal.ErrTooLarge)
	_, err = l.Append(testCtx(t), make([]byte, 100))
	require.NoError(t, err)
	require.Equal(t, uint64(wal.HeaderSize+100), l.End(), "nothing of the refused batch was written")
}

func TestLog_AppendBatch(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(700))
	ps := [][]byte{payload(0, 50), payload(1, 300), payload(2, 10), payload(3, 400), payload(4, 90)}
	before := l.Stats()
	pos, err := l.AppendBatch(testCtx(t), ps)
	require.NoError(t, err)
	require.Len(t, pos, len(ps))
	after := l.Stats()
	assert.Equal(t, before.Batches+1, after.Batches, "one batch is one group commit")
	for i := 1; i < len(pos); i++ {
		require.Equal(t, pos[i-1].End, pos[i].Offset)
	}
	recs := readAll(t, l, 0)
	require.Len(t, recs, len(ps))
	for i := range ps {
		require.Equal(t, ps[i], recs[i].Payload)
	}
	pos, err = l.AppendBatch(testCtx(t), nil)
	require.NoError(t, err)
	require.Empty(t, pos)
}

func TestLog_CanceledContext(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Append(ctx, []byte("x"))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, uint64(0), l.End())
}

func TestLog_Close(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, small(4096))
	require.NoError(t, err)
	appendN(t, l, 0, 10, 100)
	r, err := l.NewReader(0)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")

	_, err = l.Append(testCtx(t), []byte("late"))
	require.ErrorIs(t, err, wal.ErrClosed)
	_, err = r.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrClosed)
	_, err = l.NewReader(0)
	require.ErrorIs(t, err, wal.ErrClosed)
	_, err = l.DeleteBefore(100)
	require.ErrorIs(t, err, wal.ErrClosed)

	// Close trims the preallocated space: the segment holds exactly its records.
	fi, err := os.Stat(segments(t, dir)[0])
	require.NoError(t, err)
	require.Equal(t, int64(l.End()), fi.Size())
}

func TestLog_CloseDrainsQueue(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{})
	require.NoError(t, err)
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := l.Append(context.Background(), payload(uint64(i), 50))
			errs <- err
		}()
	}
	// Let some appends in, then close while others are queued or arriving.
	for range n / 2 {
		require.NoError(t, <-errs)
	}
	require.NoError(t, l.Close())
	acked := n / 2
	for range n / 2 {
		err := <-errs
		if err == nil {
			acked++
			continue
		}
		require.True(t, errors.Is(err, wal.ErrClosed), "got %v", err)
	}
	l2 := openLog(t, dir, wal.Options{})
	require.Len(t, readAll(t, l2, 0), acked, "every acknowledged append, and only those, is in the log")
}
