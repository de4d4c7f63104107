package wal_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// damage changes a segment file from byte cut on, the way a crash can leave it.
type damage func(t *testing.T, path string, cut int64)

var tornTails = []struct {
	name string
	fn   damage
}{
	{"cut", func(t *testing.T, path string, cut int64) {
		require.NoError(t, os.Truncate(path, cut))
	}},
	{"zeros", func(t *testing.T, path string, cut int64) {
		// Preallocated space that the torn write never reached.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		clear(b[cut:])
		b = append(b, make([]byte, 4096)...)
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}},
	{"garbage", func(t *testing.T, path string, cut int64) {
		// A write torn mid-sector, stale bytes behind it.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(uint64(cut), 1))
		for i := cut; i < int64(len(b)); i++ {
			b[i] = byte(rng.IntN(255) + 1)
		}
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}},
}

func TestRecover_TornTailAtEveryByte(t *testing.T) {
	src := t.TempDir()
	l, err := wal.Open(src, small(400))
	require.NoError(t, err)
	pos := appendN(t, l, 0, 12, 60)
	require.NoError(t, l.Close())
	last := pos[len(pos)-1]
	segs := segments(t, src)
	lastSeg := filepath.Base(segs[len(segs)-1])
	base, err := strconv.ParseUint(lastSeg[:20], 10, 64)
	require.NoError(t, err)

	for _, tc := range tornTails {
		t.Run(tc.name, func(t *testing.T) {
			for cut := last.Offset; cut < last.End; cut++ {
				dir := copyDir(t, src)
				tc.fn(t, filepath.Join(dir, lastSeg), int64(cut-base))
				var logs logBuffer
				l, err := wal.Open(dir, wal.Options{SegmentSize: 400, Logger: logs.logger()})
				require.NoError(t, err, "cut at %d", cut)
				require.Equal(t, last.Offset, l.End(), "cut at %d", cut)
				if tc.name != "cut" || cut > last.Offset { // a cut at the boundary is clean
					require.Contains(t, logs.String(), "offset="+strconv.FormatUint(last.Offset, 10), "cut at %d", cut)
				}
				recs := readAll(t, l, 0)
				require.Len(t, recs, len(pos)-1, "cut at %d", cut)
				for i, rec := range recs {
					seq, err := checkPayload(rec.Payload)
					require.NoError(t, err)
					require.Equal(t, uint64(i), seq)
				}
				p, err := l.Append(testCtx(t), payload(99, 60))
				require.NoError(t, err)
				require.Equal(t, last.Offset, p.Offset, "appends continue where the valid data ends")
				require.NoError(t, l.Close())

				// Recovery is idempotent, and the appended record survives.
				l, err = wal.Open(dir, small(400))
				require.NoError(t, err)
				require.Equal(t, p.End, l.End())
				require.NoError(t, l.Close())
			}
		})
	}
}

func TestRecover_CorruptRecordTruncatesEverythingAfter(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{})
	require.NoError(t, err)
	pos := appendN(t, l, 0, 10, 50)
	require.NoError(t, l.Close())
	flipBit(t, segments(t, dir)[0], int64(pos[4].Offset)+wal.HeaderSize+3, 0)

	var logs logBuffer
	l = openLog(t, dir, wal.Options{Logger: logs.logger()})
	require.Equal(t, pos[4].Offset, l.End())
	require.Len(t, readAll(t, l, 0), 4)
	require.Contains(t, logs.String(), "truncated torn or corrupt tail")
	require.Contains(t, logs.String(), "crc32c mismatch")
}

func flipBit(t *testing.T, path string, off int64, bit uint) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 1 << bit
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

// TestRecover_EveryBitFlipDetected flips each bit of a small record in a sealed segment.
// Open does not read sealed segments, so it succeeds; reading the record must fail
// with a *CorruptError naming the file and the record's offset, and nothing after it
// may be returned.
func TestRecover_EveryBitFlipDetected(t *testing.T) {
	src := t.TempDir()
	l, err := wal.Open(src, small(200))
	require.NoError(t, err)
	pos := appendN(t, l, 0, 6, 8) // 48-byte records, 4 per segment
	require.NoError(t, l.Close())
	target := pos[1]
	seg := segments(t, src)[0]
	data, err := os.ReadFile(seg)
	require.NoError(t, err)

	for bit := 0; bit < int(target.End-target.Offset)*8; bit++ {
		b := bytes.Clone(data)
		b[int(target.Offset)+bit/8] ^= 1 << (bit % 8)
		require.NoError(t, os.WriteFile(seg, b, 0o644))

		// Offline check.
		_, err := wal.Verify(testCtx(t), src, wal.Options{})
		var ce *wal.CorruptError
		require.True(t, errors.As(err, &ce), "bit %d: got %v", bit, err)
		require.Equal(t, seg, ce.Path, "bit %d", bit)
		require.Equal(t, target.Offset, ce.Offset, "bit %d", bit)

		// Through a live reader, for every eighth bit (one per byte): same answer.
		if bit%8 == bit/8%8 {
			l, err := wal.Open(src, small(200))
			require.NoError(t, err)
			r, err := l.NewReader(0)
			require.NoError(t, err)
			_, err = r.Next(testCtx(t))
			require.NoError(t, err)
			_, err = r.Next(testCtx(t))
			require.True(t, errors.As(err, &ce), "bit %d: got %v", bit, err)
			require.Equal(t, target.Offset, ce.Offset)
			_, err = r.Next(testCtx(t))
			require.ErrorIs(t, err, wal.ErrCorrupt, "a corrupt record is never skipped")
			require.NoError(t, l.Close())
		}
	}
}

func TestRecover_OnlyLastSegmentIsScanned(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, small(300))
	require.NoError(t, err)
	appendN(t, l, 0, 20, 50)
	end := l.End()
	require.NoError(t, l.Close())
	// Garbage in a sealed segment does not stop Open (it is found when read).
	first := segments(t, dir)[0]
	fi, err := os.Stat(first)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(first, bytes.Repeat([]byte{0xAB}, int(fi.Size())), 0o644))
	l = openLog(t, dir, small(300))
	require.Equal(t, end, l.End())
	r, err := l.NewReader(0)
	require.NoError(t, err)
	_, err = r.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrCorrupt)
}

func TestRecover_EmptyLastSegment(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, small(300))
	require.NoError(t, err)
	pos := appendN(t, l, 0, 10, 50)
	require.NoError(t, l.Close())
	// A crash right after rotation: the new segment exists and is empty, or holds only
	// a torn first record.
	segs := segments(t, dir)
	require.NoError(t, os.Truncate(segs[len(segs)-1], 5))
	l = openLog(t, dir, small(300))
	require.Equal(t, pos[len(pos)-1].Offset, l.End())
	require.Len(t, readAll(t, l, 0), len(pos)-1)
	appendN(t, l, 100, 5, 50)
	require.Len(t, readAll(t, l, 0), len(pos)+4)
}

func TestRecover_LeftoverPreparedFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, wal.Options{})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	stale := filepath.Join(dir, "prepared-7.tmp")
	require.NoError(t, os.WriteFile(stale, make([]byte, 100), 0o644))
	openLog(t, dir, wal.Options{})
	_, err = os.Stat(stale)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestRecover_OpenCostIsOneSegment opens a "log" of 100 sealed 64 MiB segments (sparse
// files, so the test writes almost nothing): Open reads only the last segment, so it
// takes milliseconds however long the log is.
func TestRecover_OpenCostIsOneSegment(t *testing.T) {
	dir := t.TempDir()
	const segSize = 64 << 20
	for i := range 100 {
		f, err := os.Create(filepath.Join(dir, wal.SegmentName(uint64(i)*segSize)))
		require.NoError(t, err)
		require.NoError(t, f.Truncate(segSize))
		require.NoError(t, f.Close())
	}
	last := filepath.Join(dir, wal.SegmentName(100*segSize))
	require.NoError(t, os.WriteFile(last, append(wal.EncodeRecord([]byte("a")), wal.EncodeRecord([]byte("b"))...), 0o644))

	start := time.Now()
	l, err := wal.Open(dir, wal.Options{})
	took := time.Since(start)
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, uint64(100*segSize+2*(wal.HeaderSize+1)), l.End())
	require.Less(t, took, time.Second, "Open must not read sealed segments")
	t.Logf("open of a %d GiB log took %v", 100*segSize>>30, took)
}
