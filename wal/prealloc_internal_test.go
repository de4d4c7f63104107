package wal

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitPrepared waits until the preparer has a zero-filled file ready.
func waitPrepared(t *testing.T, l *Log) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(l.prep.ready) == 0 {
		require.False(t, time.Now().After(deadline), "no prepared segment")
		time.Sleep(time.Millisecond)
	}
}

func TestPrealloc_RotationUsesPreparedSegmentAndTrims(t *testing.T) {
	dir := t.TempDir()
	const segSize = 4096
	l, err := Open(dir, Options{SegmentSize: segSize})
	require.NoError(t, err)
	ctx := context.Background()
	payload := make([]byte, 200)
	for l.End() < segSize/2+1 {
		_, err := l.Append(ctx, payload)
		require.NoError(t, err)
	}
	waitPrepared(t, l)
	var last Position
	for last.Offset == 0 || last.Offset < segSize-300 {
		last, err = l.Append(ctx, payload)
		require.NoError(t, err)
	}
	p, err := l.Append(ctx, payload) // rotates into the prepared file
	require.NoError(t, err)
	require.Equal(t, uint64(1), l.Stats().Rotations)

	active := filepath.Join(dir, segmentName(p.Offset))
	fi, err := os.Stat(active)
	require.NoError(t, err)
	require.Equal(t, int64(segSize), fi.Size(), "the active segment is preallocated")
	sealed, err := os.Stat(filepath.Join(dir, segmentName(0)))
	require.NoError(t, err)
	require.Equal(t, int64(p.Offset), sealed.Size(), "a sealed segment has no padding")

	// A crash now leaves zeros after the last record: copy the files as they are.
	crashed := t.TempDir()
	for _, name := range []string{segmentName(0), segmentName(p.Offset)} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(crashed, name), b, 0o644))
	}

	require.NoError(t, l.Close())
	fi, err = os.Stat(active)
	require.NoError(t, err)
	require.Equal(t, int64(p.End-p.Offset), fi.Size(), "Close trims the zeros")
	matches, err := filepath.Glob(filepath.Join(dir, preparedPrefix+"*"))
	require.NoError(t, err)
	require.Empty(t, matches, "Close removes unused prepared files")

	l2, err := Open(crashed, Options{SegmentSize: segSize})
	require.NoError(t, err)
	require.Equal(t, p.End, l2.End(), "recovery stops at the zero header")
	fi, err = os.Stat(filepath.Join(crashed, segmentName(p.Offset)))
	require.NoError(t, err)
	require.Equal(t, int64(p.End-p.Offset), fi.Size(), "and trims the zeros")
	require.NoError(t, l2.Close())
}

func TestPrealloc_Disabled(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: 1024, NoPreallocate: true})
	require.NoError(t, err)
	for range 30 {
		_, err := l.Append(context.Background(), make([]byte, 100))
		require.NoError(t, err)
		fi, err := os.Stat(filepath.Join(dir, segmentName(l.wbaseForTest())))
		require.NoError(t, err)
		require.Equal(t, int64(l.End()-l.wbaseForTest()), fi.Size())
	}
	require.NoError(t, l.Close())
}

// wbaseForTest reads the active segment's base under the segment lock.
func (l *Log) wbaseForTest() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[len(l.segs)-1]
}

// A segment that is not preallocated (here: the one a new log starts with, and again
// after a reopen) is sealed once it has grown by earlyPrepareAfter and a prepared file
// is ready, rather than when it is full; the records all read back, in order.
func TestPrealloc_SealsAGrowingSegmentEarly(t *testing.T) {
	dir := t.TempDir()
	const segSize = 8 * earlyPrepareAfter
	ctx := context.Background()
	payload := make([]byte, 4000)
	var written int
	appendUntil := func(l *Log, end uint64) Position {
		var p Position
		for l.End() < end {
			var err error
			p, err = l.Append(ctx, payload)
			require.NoError(t, err)
			written++
		}
		return p
	}
	for round := range 2 {
		l, err := Open(dir, Options{SegmentSize: segSize})
		require.NoError(t, err)
		require.False(t, l.wprealloc, "round %d: the segment found at Open is not preallocated", round)
		base := l.wbaseForTest()
		appendUntil(l, base+earlyPrepareAfter)
		waitPrepared(t, l)
		require.Equal(t, uint64(0), l.Stats().Rotations, "round %d: not full, not sealed yet", round)
		p := appendUntil(l, l.End()+1) // the next batch seals it
		require.Equal(t, uint64(1), l.Stats().Rotations, "round %d", round)
		require.Equal(t, p.Offset, l.wbaseForTest(), "round %d: the record opens the new segment", round)
		fi, err := os.Stat(filepath.Join(dir, segmentName(p.Offset)))
		require.NoError(t, err)
		require.Equal(t, int64(segSize), fi.Size(), "round %d: the new segment is preallocated", round)
		sealed, err := os.Stat(filepath.Join(dir, segmentName(base)))
		require.NoError(t, err)
		require.Equal(t, int64(p.Offset-base), sealed.Size(), "round %d: sealed without padding", round)
		require.NoError(t, l.Close())
	}

	r, err := Verify(ctx, dir, Options{})
	require.NoError(t, err)
	require.Equal(t, written, int(r.Records))
}

// Small segments keep the half-full rule alone, so their layout does not depend on
// when a prepared file happens to be ready.
func TestPrealloc_SmallSegmentsDoNotSealEarly(t *testing.T) {
	l, err := Open(t.TempDir(), Options{SegmentSize: 2 * earlyPrepareAfter})
	require.NoError(t, err)
	defer l.Close()
	require.False(t, l.sealsEarly())
}
