package wal_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// testTimeout bounds every blocking wait in the tests; nothing sleeps for
// synchronisation, but nothing waits for ever either.
const testTimeout = 20 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// small returns Options with tiny segments, so that a handful of records rotates.
func small(segmentSize int64) wal.Options {
	return wal.Options{SegmentSize: segmentSize}
}

func openLog(t testing.TB, dir string, opts wal.Options) *wal.Log {
	t.Helper()
	l, err := wal.Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// payload is a self-checking record body: its sequence number, then bytes derived from
// it, so that a reader can tell a record is intact and which one it is.
func payload(seq uint64, size int) []byte {
	size = max(size, 8)
	p := make([]byte, size)
	binary.BigEndian.PutUint64(p, seq)
	x := seq*0x9E3779B97F4A7C15 + 1
	for i := 8; i < size; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x)
	}
	return p
}

// checkPayload returns the sequence number of a payload made by payload, or an error if
// its bytes are not what payload would make.
func checkPayload(p []byte) (uint64, error) {
	if len(p) < 8 {
		return 0, errors.New("payload shorter than 8 bytes")
	}
	seq := binary.BigEndian.Uint64(p)
	if !bytes.Equal(p, payload(seq, len(p))) {
		return seq, errors.New("payload bytes do not match its sequence number")
	}
	return seq, nil
}

// appendN appends n payloads of the given size, seq from start, and returns their
// positions.
func appendN(t testing.TB, l *wal.Log, start uint64, n, size int) []wal.Position {
	t.Helper()
	ctx := testCtx(t)
	pos := make([]wal.Position, n)
	for i := range n {
		p, err := l.Append(ctx, payload(start+uint64(i), size))
		require.NoError(t, err)
		pos[i] = p
	}
	return pos
}

// readAll reads records from `from` up to the durable end.
func readAll(t testing.TB, l *wal.Log, from uint64) []wal.Record {
	t.Helper()
	r, err := l.NewReader(from)
	require.NoError(t, err)
	defer r.Close()
	end := l.End()
	var recs []wal.Record
	ctx := testCtx(t)
	for r.Offset() < end {
		rec, err := r.Next(ctx)
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	return recs
}

// segments lists the segment files in dir, in order.
func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		out, err := os.Create(filepath.Join(dst, e.Name()))
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, in.Close())
		require.NoError(t, out.Close())
	}
	return dst
}

// logBuffer collects what a Log logs, for asserting on recovery reports.
type logBuffer struct{ bytes.Buffer }

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&b.Buffer, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// eventually waits until cond holds, up to the test deadline. It is for states that
// have no event to wait on (a goroutine parked inside Append), never for ordering.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}
