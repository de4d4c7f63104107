//go:build linux

package wal

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newTestRing returns a ring, or skips where the kernel or a seccomp profile refuses
// io_uring: the fdatasync path is what runs there, and its tests still do.
func newTestRing(t *testing.T) *ringSyncer {
	t.Helper()
	r, err := newRingSyncer()
	if err != nil {
		t.Skipf("io_uring unavailable here: %v", err)
	}
	t.Cleanup(r.close)
	return r
}

func TestRingSyncer_FlushesManyTimes(t *testing.T) {
	r := newTestRing(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "seg"))
	require.NoError(t, err)
	defer f.Close()
	// Far more flushes than ring entries, so that both rings wrap many times.
	for i := range 3 * ringEntries * 8 {
		_, err := f.WriteAt([]byte{byte(i)}, int64(i))
		require.NoError(t, err)
		require.NoError(t, r.dataSync(f), "flush %d", i)
	}
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	require.Len(t, got, 3*ringEntries*8)
}

// A flush the kernel refuses comes back as the errno, wrapped with the file's name, and
// the ring stays usable.
func TestRingSyncer_ReportsTheKernelsError(t *testing.T) {
	r := newTestRing(t)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	err = r.dataSync(pw) // pipes cannot be fsynced
	require.ErrorIs(t, err, syscall.EINVAL)
	require.Contains(t, err.Error(), pw.Name())
	// A failed flush is the flush's result, not the ring's: flushFile must not retry it
	// with fdatasync (after a failed fsync the kernel may have dropped the dirty pages,
	// and a second fsync would report success).
	var re *ringError
	require.False(t, errors.As(err, &re))

	f, err := os.Create(filepath.Join(t.TempDir(), "seg"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, r.dataSync(f))
}

func TestRingSyncer_ClosedFile(t *testing.T) {
	r := newTestRing(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "seg"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.ErrorContains(t, r.dataSync(f), "use of closed file")
}

// The log takes the ring by default, and Options.NoIOUring keeps fdatasync; both make
// appends durable across a reopen.
func TestLog_SyncMethods(t *testing.T) {
	newTestRing(t) // skip where there is no ring to take
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "io_uring"},
		{Options{NoIOUring: true}, "fdatasync"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dir := t.TempDir()
			l, err := Open(dir, tc.opts)
			require.NoError(t, err)
			require.Equal(t, tc.want, l.SyncMethod())
			require.Equal(t, map[string]int{"io_uring": 0, "fdatasync": 1}[tc.want], l.HeldProcs())
			ctx := context.Background()
			var last Position
			for i := range 50 {
				last, err = l.Append(ctx, []byte{byte(i), 1, 2, 3})
				require.NoError(t, err)
			}
			require.Equal(t, last.End, l.End())
			require.Equal(t, uint64(50), l.Stats().Records)
			require.NotZero(t, l.Stats().Syncs)
			require.NoError(t, l.Close())

			l, err = Open(dir, tc.opts)
			require.NoError(t, err)
			defer l.Close()
			require.Equal(t, last.End, l.End())
		})
	}
}

// A ring that breaks is dropped: the flush that found it broken is redone with
// fdatasync, the append succeeds, and so do later ones.
func TestLog_BrokenRingFallsBackToFdatasync(t *testing.T) {
	newTestRing(t)
	dir := t.TempDir()
	logs := &bytes.Buffer{}
	l, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	require.Equal(t, "io_uring", l.SyncMethod())
	ctx := context.Background()
	_, err = l.Append(ctx, []byte("before"))
	require.NoError(t, err)

	// Appends are serialised with the committer through the queue, so it is idle here.
	// io_uring_enter on -1 fails with EBADF; the real descriptor is closed at the end.
	realFD := l.ring.fd
	l.ring.fd = -1
	t.Cleanup(func() { unix.Close(realFD) })

	p, err := l.Append(ctx, []byte("after"))
	require.NoError(t, err)
	require.Equal(t, "fdatasync", l.SyncMethod())
	require.Equal(t, 1, l.HeldProcs())
	require.Contains(t, logs.String(), "io_uring failed")
	require.Contains(t, logs.String(), "bad file descriptor")
	_, err = l.Append(ctx, []byte("later"))
	require.NoError(t, err)
	require.NoError(t, l.Close())

	l, err = Open(dir, Options{})
	require.NoError(t, err)
	defer l.Close()
	require.Greater(t, l.End(), p.End)
}

func TestRingSyncer_OnlyErrorsOfTheRingAreRetried(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		retry bool
	}{
		{syscall.EAGAIN, true}, {syscall.ECANCELED, true}, {syscall.EINTR, true},
		{syscall.ENOMEM, true}, {syscall.EBUSY, true},
		{syscall.EIO, false}, {syscall.ENOSPC, false}, {syscall.EDQUOT, false},
		{syscall.EROFS, false}, {syscall.EINVAL, false}, {syscall.EBADF, false},
	} {
		require.Equal(t, tc.retry, notRun(tc.errno), "%v", tc.errno)
	}
}
