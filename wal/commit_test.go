package wal_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// TestCommit_ConcurrentAppenders hammers the log from many goroutines, with single
// appends and batches, while a reader follows. Every acknowledged record must be read
// exactly once, in offset order, intact, at the position Append returned.
func TestCommit_ConcurrentAppenders(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, small(8<<10))
	const writers, perWriter = 16, 150

	r, err := l.NewReader(0)
	require.NoError(t, err)
	type ack struct{ seq, offset, end uint64 }
	acks := make(chan ack, writers*perWriter)
	var seq atomic.Uint64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testCtx(t)
			for i := 0; i < perWriter; {
				if w%4 == 0 && i+3 <= perWriter { // some writers use batches
					s := seq.Add(3) - 3
					ps := [][]byte{payload(s, 40), payload(s+1, 200), payload(s+2, 8)}
					pos, err := l.AppendBatch(ctx, ps)
					if !assert.NoError(t, err) {
						return
					}
					for k := range pos {
						acks <- ack{s + uint64(k), pos[k].Offset, pos[k].End}
					}
					i += 3
					continue
				}
				s := seq.Add(1) - 1
				p, err := l.Append(ctx, payload(s, 30+int(s%300)))
				if !assert.NoError(t, err) {
					return
				}
				acks <- ack{s, p.Offset, p.End}
				i++
			}
		}()
	}
	wg.Wait()
	close(acks)
	want := map[uint64]ack{}
	for a := range acks {
		want[a.offset] = a
	}
	require.Len(t, want, writers*perWriter, "offsets are unique")

	ctx := testCtx(t)
	seen := map[uint64]bool{}
	var prev uint64
	for range len(want) {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, prev, rec.Offset, "records are contiguous and in offset order")
		prev = rec.End
		a, ok := want[rec.Offset]
		require.True(t, ok, "record at %d was never acknowledged", rec.Offset)
		require.Equal(t, a.end, rec.End)
		s, err := checkPayload(rec.Payload)
		require.NoError(t, err)
		require.Equal(t, a.seq, s)
		require.False(t, seen[s], "record %d read twice", s)
		seen[s] = true
	}
	require.Equal(t, l.End(), prev)
	st := l.Stats()
	require.Equal(t, uint64(writers*perWriter), st.Records)
	t.Logf("stats: %+v, %.1f records per batch", st, float64(st.Records)/float64(st.Batches))
}

// TestCommit_BatchesWithOneProcessor checks that group commit still groups when only
// one goroutine can run at a time: the only running thread spends its time in
// fdatasync, and a naive committer then writes one record per fsync.
func TestCommit_BatchesWithOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	l := openLog(t, t.TempDir(), wal.Options{})
	const writers, perWriter = 64, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testCtx(t)
			for i := range perWriter {
				_, err := l.Append(ctx, payload(uint64(w*perWriter+i), 450))
				if !assert.NoError(t, err) {
					return
				}
			}
		}()
	}
	wg.Wait()
	st := l.Stats()
	mean := float64(st.Records) / float64(st.Batches)
	t.Logf("GOMAXPROCS=1: %d records in %d batches (%d syncs): %.1f per batch", st.Records, st.Batches, st.Syncs, mean)
	require.Equal(t, uint64(writers*perWriter), st.Records)
	require.Greater(t, mean, 16.0, "64 concurrent appenders must share fsyncs")
}

func TestCommit_OverloadedWhenQueueFull(t *testing.T) {
	// Hold the committer inside fdatasync so that the queue fills up.
	inSync := make(chan struct{}, 1)
	release := make(chan struct{})
	l, err := wal.OpenWithFaults(t.TempDir(), wal.Options{QueueSize: 4, QueueWait: 40 * time.Millisecond}, nil, func() error {
		select {
		case inSync <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	require.NoError(t, err)
	defer l.Close()

	var wg sync.WaitGroup
	start := func(n int) {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Append(context.Background(), payload(uint64(i), 10))
				assert.NoError(t, err)
			}()
		}
	}
	start(1)
	<-inSync // the first batch is in fdatasync; the next four records fill the queue
	start(4)
	eventually(t, func() bool { return queued(l) == 4 })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = l.Append(ctx, []byte("one too many"))
	require.ErrorIs(t, err, wal.ErrOverloaded)
	require.ErrorIs(t, err, context.DeadlineExceeded, "ErrOverloaded wraps the context's error")

	// With no deadline of its own, an appender is refused once QueueWait has passed.
	_, err = l.Append(context.Background(), []byte("one too many, patient"))
	require.ErrorIs(t, err, wal.ErrOverloaded)
	require.ErrorContains(t, err, "no room in the queue")

	// The first appender's fsync has now been held for longer than QueueWait (both
	// refusals above waited their full time); its Append must still succeed, checked in
	// start: QueueWait bounds only the wait for room, never an acknowledgement.

	close(release)
	wg.Wait()
	_, err = l.Append(testCtx(t), []byte("room again"))
	require.NoError(t, err)
}

// queued reports how many records wait in the queue (an internal count, exported for
// tests only: there is no event for "an appender is parked waiting").
func queued(l *wal.Log) int { return wal.Queued(l) }

func TestCommit_FailureIsPermanent(t *testing.T) {
	tests := []struct {
		name        string
		write, sync bool
	}{
		{"write error", true, false},
		{"fsync error", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var broken atomic.Bool
			fault := func(on bool) func() error {
				return func() error {
					if on && broken.Load() {
						return syscall.EIO
					}
					return nil
				}
			}
			l, err := wal.OpenWithFaults(dir, small(4096), fault(tt.write), fault(tt.sync))
			require.NoError(t, err)
			good := appendN(t, l, 0, 5, 50)
			r, err := l.NewReader(0)
			require.NoError(t, err)

			broken.Store(true)
			_, err = l.Append(testCtx(t), payload(5, 50))
			require.ErrorIs(t, err, wal.ErrFailed)
			require.ErrorIs(t, err, syscall.EIO)
			require.Equal(t, good[4].End, l.End(), "a failed batch is not durable")

			broken.Store(false) // even once the disk "recovers", the log does not pretend
			_, err = l.Append(testCtx(t), payload(6, 50))
			require.ErrorIs(t, err, wal.ErrFailed)
			_, err = l.AppendBatch(testCtx(t), [][]byte{payload(7, 50)})
			require.ErrorIs(t, err, wal.ErrFailed)

			// Readers still get exactly the durable records.
			for i := range 5 {
				rec, err := r.Next(testCtx(t))
				require.NoError(t, err)
				require.Equal(t, good[i].Offset, rec.Offset)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			_, err = r.Next(ctx)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)

			require.ErrorIs(t, l.Close(), wal.ErrFailed)
			l2 := openLog(t, dir, small(4096))
			recs := readAll(t, l2, 0)
			require.GreaterOrEqual(t, len(recs), 5, "acknowledged records survive a reopen")
		})
	}
}

func TestCommit_ContextEndsWhileWaitingForSync(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	l, err := wal.OpenWithFaults(t.TempDir(), wal.Options{}, nil, func() error {
		once.Do(func() { <-release })
		return nil
	})
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = l.Append(ctx, []byte("slow"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, errors.Is(err, wal.ErrOverloaded), "the record was queued: not an overload")
	close(release)
}
