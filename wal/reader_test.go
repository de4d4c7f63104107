package wal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

func TestReader_FollowsWriterAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(600))
	r, err := l.NewReader(0)
	require.NoError(t, err)
	defer r.Close()

	const n = 200
	got := make(chan wal.Record, n)
	errc := make(chan error, 1)
	go func() {
		ctx := testCtx(t)
		for range n {
			rec, err := r.Next(ctx) // blocks until the writer's records are durable
			if err != nil {
				errc <- err
				return
			}
			got <- rec
		}
		errc <- nil
	}()

	pos := appendN(t, l, 0, n, 80)
	require.NoError(t, <-errc)
	close(got)
	i := 0
	for rec := range got {
		seq, err := checkPayload(rec.Payload)
		require.NoError(t, err)
		require.Equal(t, uint64(i), seq)
		require.Equal(t, pos[i], wal.Position{Offset: rec.Offset, End: rec.End})
		i++
	}
	require.Equal(t, n, i)
	require.Greater(t, len(segments(t, dir)), 20, "the reader crossed many segments created after it opened")
}

func TestReader_BlocksUntilAppendAndHonoursContext(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	r, err := l.NewReader(0)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = r.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	done := make(chan wal.Record)
	go func() {
		rec, err := r.Next(testCtx(t))
		assert.NoError(t, err)
		done <- rec
	}()
	_, err = l.Append(testCtx(t), []byte("hello"))
	require.NoError(t, err)
	rec := <-done
	require.Equal(t, []byte("hello"), rec.Payload)
}

func TestReader_OnlySeesDurableRecords(t *testing.T) {
	// The sync hook holds the committer between write(2) and fdatasync: the record is in
	// the file but not durable, and a reader must not see it.
	inSync := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	l, err := wal.OpenWithFaults(t.TempDir(), wal.Options{}, nil, func() error {
		once.Do(func() {
			close(inSync)
			<-release
		})
		return nil
	})
	require.NoError(t, err)
	defer l.Close()
	r, err := l.NewReader(0)
	require.NoError(t, err)

	appended := make(chan error)
	go func() {
		_, err := l.Append(context.Background(), []byte("pending"))
		appended <- err
	}()
	<-inSync
	require.Equal(t, uint64(0), l.End(), "written but not synced is not durable")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = r.Next(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "a reader must not see an unsynced record")

	close(release)
	require.NoError(t, <-appended)
	rec, err := r.Next(testCtx(t))
	require.NoError(t, err)
	require.Equal(t, []byte("pending"), rec.Payload)
}

func TestReader_NewReaderRange(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	pos := appendN(t, l, 0, 3, 10)
	_, err := l.NewReader(pos[2].End + 1)
	require.ErrorIs(t, err, wal.ErrOutOfRange)
	r, err := l.NewReader(pos[2].End)
	require.NoError(t, err, "the end itself is a valid place to wait")
	require.Equal(t, pos[2].End, r.Offset())
}

func TestReader_NotARecordBoundaryReadsAsCorrupt(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	appendN(t, l, 0, 3, 100)
	r, err := l.NewReader(7)
	require.NoError(t, err)
	_, err = r.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrCorrupt)
}

func TestReader_Close(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	appendN(t, l, 0, 1, 10)
	r, err := l.NewReader(0)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = r.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrClosed)
}

func TestReader_WakesOnLogClose(t *testing.T) {
	l, err := wal.Open(t.TempDir(), wal.Options{})
	require.NoError(t, err)
	r, err := l.NewReader(0)
	require.NoError(t, err)
	errc := make(chan error)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	require.NoError(t, l.Close())
	err = <-errc
	require.True(t, errors.Is(err, wal.ErrClosed), "got %v", err)
}

func TestReader_ManyReadersOneWriter(t *testing.T) {
	l := openLog(t, t.TempDir(), small(2000))
	const readers, n = 4, 300
	var wg sync.WaitGroup
	for range readers {
		r, err := l.NewReader(0)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			ctx := testCtx(t)
			for i := range n {
				rec, err := r.Next(ctx)
				if !assert.NoError(t, err) {
					return
				}
				seq, err := checkPayload(rec.Payload)
				assert.NoError(t, err)
				assert.Equal(t, uint64(i), seq)
			}
		}()
	}
	appendN(t, l, 0, n, 64)
	wg.Wait()
}
