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
