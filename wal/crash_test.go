package wal_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// The crash test runs the test binary again as a child (TestCrashChild, switched on by
// this variable) that appends from many goroutines and prints every acknowledged
// record. The parent kills it with SIGKILL at random moments, reopens the log and
// checks that every acknowledged record is there and intact.
const crashChildEnv = "WAL_CRASH_CHILD_DIR"

// crashSegmentEnv sets the child's segment size, so that one test crashes around small
// rotations and another around early sealing, which needs segments over 2 MiB.
const crashSegmentEnv = "WAL_CRASH_SEGMENT"

func crashOpts(segment int64) wal.Options { return wal.Options{SegmentSize: segment} }

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("only runs as the crash test's child process")
	}
	var gen uint64
	var segment int64
	fmt.Sscan(os.Getenv("WAL_CRASH_GEN"), &gen)
	fmt.Sscan(os.Getenv(crashSegmentEnv), &segment)
	l, err := wal.Open(dir, crashOpts(segment))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); ; i++ {
				seq := gen<<40 | uint64(w)<<32 | i
				size := 16 + int(seq*7919%600)
				if i%5 == 0 {
					ps := [][]byte{payload(seq, size), payload(seq|1<<31, size/2)}
					pos, err := l.AppendBatch(context.Background(), ps)
					if err != nil {
						fmt.Fprintln(os.Stderr, "append batch:", err)
						os.Exit(4)
					}
					mu.Lock()
					fmt.Fprintf(out, "%d %d %d\n%d %d %d\n", seq, pos[0].Offset, pos[0].End,
						seq|1<<31, pos[1].Offset, pos[1].End)
					out.Flush()
					mu.Unlock()
					continue
				}
				p, err := l.Append(context.Background(), payload(seq, size))
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(4)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %d %d\n", seq, p.Offset, p.End)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestCrash_KillDuringAppends(t *testing.T) {
	crashRounds(t, 32<<10, 24, 400)
}

// Segments over 2 MiB are sealed early once 1 MiB has been written and a prepared file
// is ready: kill the child before, during and after that, over several reopens.
func TestCrash_KillAroundEarlySeal(t *testing.T) {
	crashRounds(t, 4<<20, 8, 6000)
}

// crashRounds runs rounds children on one directory with the given segment size and
// kills each after up to maxAcks acknowledgements (or, one round in four, after a short
// random delay), checking every acknowledged record after each kill.
func crashRounds(t *testing.T, segment int64, rounds, maxAcks int) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	type ack struct{ seq, end uint64 }
	acked := map[uint64]ack{} // by offset
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("WAL_CRASH_GEN=%d", round+1),
			fmt.Sprintf("%s=%d", crashSegmentEnv, segment))
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())

		// Kill after a random number of acknowledgements, or, one round in four, after a
		// random delay that may fall inside Open's recovery.
		sc := bufio.NewScanner(stdout)
		killAfter := 1 + rng.IntN(maxAcks)
		delay := 5 * time.Second // a backstop: no round can hang the test
		if round%4 == 3 {
			delay = time.Duration(rng.IntN(150)) * time.Millisecond
			killAfter = -1
		}
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		n := 0
		for sc.Scan() {
			var a ack
			var off uint64
			_, err := fmt.Sscan(sc.Text(), &a.seq, &off, &a.end)
			require.NoError(t, err, "line %q", sc.Text())
			acked[off] = a
			n++
			if n == killAfter {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		}
		timer.Stop()
		cmd.Process.Signal(syscall.SIGKILL) // in case the child died before its kill
		err = cmd.Wait()
		require.Error(t, err, "the child only ever ends by SIGKILL")
		if ee, ok := err.(*exec.ExitError); ok {
			ws := ee.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled(), "child exited on its own: %v", err)
		}

		// Every acknowledged record is present, intact and where Append said.
		l, err := wal.Open(dir, crashOpts(segment))
		require.NoError(t, err, "round %d", round)
		found := 0
		r, err := l.NewReader(0)
		require.NoError(t, err)
		ctx := testCtx(t)
		for r.Offset() < l.End() {
			rec, err := r.Next(ctx)
			require.NoError(t, err, "round %d", round)
			seq, err := checkPayload(rec.Payload)
			require.NoError(t, err, "round %d: record at %d", round, rec.Offset)
			if a, ok := acked[rec.Offset]; ok {
				require.Equal(t, a.seq, seq, "round %d: record at %d", round, rec.Offset)
				require.Equal(t, a.end, rec.End)
				found++
			}
		}
		require.Equal(t, len(acked), found, "round %d: acknowledged records missing", round)
		// Appends continue at the recovered end.
		end := l.End()
		p, err := l.Append(ctx, payload(uint64(round)<<20|1<<62, 32))
		require.NoError(t, err)
		require.Equal(t, end, p.Offset)
		acked[p.Offset] = ack{seq: uint64(round)<<20 | 1<<62, end: p.End}
		require.NoError(t, l.Close())
		t.Logf("round %d: %d acks this round, %d in total, log end %d", round, n, len(acked), end)
	}
	var sizes []int64
	for _, seg := range segments(t, dir) {
		fi, err := os.Stat(seg)
		require.NoError(t, err)
		sizes = append(sizes, fi.Size())
	}
	if len(sizes) <= 16 {
		t.Logf("segment sizes: %v", sizes) // early seals show as sealed segments just over 1 MiB
	}
}
