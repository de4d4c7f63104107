package wal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

func TestRetention_DeleteBefore(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(500)) // 100-byte records, 5 per segment
	pos := appendN(t, l, 0, 23, 60)
	nsegs := len(segments(t, dir))
	require.Equal(t, 5, nsegs)

	// A reader in the range about to go, one beyond it.
	behind, err := l.NewReader(pos[2].Offset)
	require.NoError(t, err)
	ahead, err := l.NewReader(pos[11].Offset)
	require.NoError(t, err)

	// Offset in the middle of the third segment: the first two segments lie below it.
	n, err := l.DeleteBefore(pos[12].Offset)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, pos[10].Offset, l.First())
	require.Len(t, segments(t, dir), nsegs-2)

	_, err = behind.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrDeleted)
	_, err = l.NewReader(pos[9].Offset)
	require.ErrorIs(t, err, wal.ErrDeleted)
	rec, err := ahead.Next(testCtx(t))
	require.NoError(t, err)
	require.Equal(t, pos[11].Offset, rec.Offset)
	require.Len(t, readAll(t, l, l.First()), 13)

	// The active segment is never deleted, whatever the offset.
	n, err = l.DeleteBefore(^uint64(0))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Len(t, segments(t, dir), 1)
	require.Equal(t, pos[20].Offset, l.First())
	p, err := l.Append(testCtx(t), payload(23, 60))
	require.NoError(t, err)
	require.Equal(t, pos[22].End, p.Offset)

	// Retention survives a reopen: the log now starts at its first kept segment.
	require.NoError(t, l.Close())
	l2 := openLog(t, dir, small(500))
	require.Equal(t, pos[20].Offset, l2.First())
	require.Len(t, readAll(t, l2, l2.First()), 4)
	v, err := wal.Verify(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.Equal(t, pos[20].Offset, v.First)
	require.Equal(t, uint64(4), v.Records)
}

func TestRetention_NothingToDelete(t *testing.T) {
	l := openLog(t, t.TempDir(), small(500))
	pos := appendN(t, l, 0, 10, 60)
	n, err := l.DeleteBefore(pos[4].End - 1)
	require.NoError(t, err)
	require.Zero(t, n, "a segment is deleted only when it lies entirely below the offset")
}
