package wal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// buildLog writes n records of size bytes with the given segment size and closes the log.
func buildLog(t *testing.T, segSize int64, n, size int) (string, []wal.Position) {
	t.Helper()
	dir := t.TempDir()
	l, err := wal.Open(dir, small(segSize))
	require.NoError(t, err)
	pos := appendN(t, l, 0, n, size)
	require.NoError(t, l.Close())
	return dir, pos
}

// segmentOf returns the path of the segment holding offset.
func segmentOf(t *testing.T, dir string, offset uint64) (string, uint64) {
	t.Helper()
	var path string
	var base uint64
	for _, s := range segments(t, dir) {
		var b uint64
		for _, c := range filepath.Base(s)[:20] {
			b = b*10 + uint64(c-'0')
		}
		if b <= offset {
			path, base = s, b
		}
	}
	return path, base
}

func TestRepair_SealedCorruption(t *testing.T) {
	dir, pos := buildLog(t, 500, 40, 60) // 100-byte records, 5 per segment
	bad := pos[12]                       // third record of the third segment
	seg, base := segmentOf(t, dir, bad.Offset)
	require.NotEqual(t, segments(t, dir)[len(segments(t, dir))-1], seg, "must be sealed")
	before, err := os.ReadFile(seg)
	require.NoError(t, err)
	flipBit(t, seg, int64(bad.Offset-base)+wal.HeaderSize+10, 2)
	damaged, err := os.ReadFile(seg)
	require.NoError(t, err)
	later := segments(t, dir)
	later = later[len(later)-(len(later)-3):] // segments after the damaged one

	// Open works, reading up to the damage works, the damaged record is reported with
	// file and offset and is never skipped.
	l, err := wal.Open(dir, small(500))
	require.NoError(t, err)
	r, err := l.NewReader(0)
	require.NoError(t, err)
	for range 12 {
		_, err := r.Next(testCtx(t))
		require.NoError(t, err)
	}
	_, err = r.Next(testCtx(t))
	var ce *wal.CorruptError
	require.True(t, errors.As(err, &ce), "got %v", err)
	require.Equal(t, seg, ce.Path)
	require.Equal(t, bad.Offset, ce.Offset)
	require.Contains(t, err.Error(), seg)
	r2, err := l.NewReader(bad.End)
	require.NoError(t, err)
	_, err = r2.Next(testCtx(t))
	require.NoError(t, err, "records after the damage stay readable until a repair")

	// Repair refuses to run beside an open log.
	_, err = wal.Repair(testCtx(t), dir, wal.Options{})
	require.ErrorIs(t, err, wal.ErrLocked)
	require.NoError(t, l.Close())

	// Reopening does not repair a sealed segment by itself.
	l, err = wal.Open(dir, small(500))
	require.NoError(t, err)
	require.Equal(t, pos[len(pos)-1].End, l.End())
	require.NoError(t, l.Close())

	res, err := wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	assert.True(t, res.Cut)
	assert.Equal(t, seg, res.Segment)
	assert.Equal(t, bad.Offset, res.Offset)
	assert.Equal(t, bad.Offset, res.End)
	assert.Equal(t, "crc32c mismatch", res.Reason)

	// The cut bytes are kept, and so are the later segments, in quarantine.
	broken, err := os.ReadFile(res.Broken)
	require.NoError(t, err)
	require.Equal(t, damaged[bad.Offset-base:], broken)
	require.Equal(t, filepath.Join(dir, "quarantine-"+wal.SegmentName(bad.Offset)[:20]), res.Quarantine)
	require.Len(t, res.Quarantined, len(later))
	for _, s := range later {
		_, err := os.Stat(filepath.Join(res.Quarantine, filepath.Base(s)))
		require.NoError(t, err)
	}
	kept, err := os.ReadFile(seg)
	require.NoError(t, err)
	require.Equal(t, before[:bad.Offset-base], kept)

	// The repaired log verifies, ends at the damage and appends there.
	v, err := wal.Verify(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.Equal(t, uint64(12), v.Records)
	l = openLog(t, dir, small(500))
	require.Equal(t, bad.Offset, l.End())
	p, err := l.Append(testCtx(t), payload(12, 60))
	require.NoError(t, err)
	require.Equal(t, bad.Offset, p.Offset)
	require.Len(t, readAll(t, l, 0), 13)
	require.NoError(t, l.Close())

	// A second repair has nothing to do.
	res, err = wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.False(t, res.Cut)
	require.Equal(t, p.End, res.End)
}

func TestRepair_SealedSegmentTooLong(t *testing.T) {
	dir, pos := buildLog(t, 500, 20, 60)
	seg, _ := segmentOf(t, dir, pos[0].Offset)
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("extra"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, err = wal.Verify(testCtx(t), dir, wal.Options{})
	var ce *wal.CorruptError
	require.True(t, errors.As(err, &ce), "got %v", err)
	require.Equal(t, pos[5].Offset, ce.Offset)

	l, err := wal.Open(dir, small(500))
	require.NoError(t, err)
	r, err := l.NewReader(0)
	require.NoError(t, err)
	for range 5 {
		_, err := r.Next(testCtx(t))
		require.NoError(t, err)
	}
	_, err = r.Next(testCtx(t))
	require.ErrorIs(t, err, wal.ErrCorrupt, "crossing into the next segment checks the sealed size")
	require.NoError(t, l.Close())

	res, err := wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.True(t, res.Cut)
	require.Empty(t, res.Quarantined, "only the extra bytes go")
	broken, err := os.ReadFile(res.Broken)
	require.NoError(t, err)
	require.Equal(t, []byte("extra"), broken)
	v, err := wal.Verify(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.Equal(t, uint64(len(pos)), v.Records)
}

func TestRepair_TruncatedSealedSegment(t *testing.T) {
	dir, pos := buildLog(t, 500, 20, 60)
	seg, _ := segmentOf(t, dir, pos[0].Offset)
	require.NoError(t, os.Truncate(seg, int64(pos[3].Offset)+7))
	res, err := wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.Equal(t, pos[3].Offset, res.Offset)
	require.NotEmpty(t, res.Quarantined)
	l := openLog(t, dir, small(500))
	require.Equal(t, pos[3].Offset, l.End())
}

func TestRepair_TornTailKeepsCopy(t *testing.T) {
	dir, pos := buildLog(t, 1<<20, 5, 60)
	seg := segments(t, dir)[0]
	require.NoError(t, os.Truncate(seg, int64(pos[4].Offset)+50))
	v, err := wal.Verify(testCtx(t), dir, wal.Options{})
	require.NoError(t, err, "a torn tail is what a crash leaves: reported, not an error")
	require.NotNil(t, v.Tail)
	require.Equal(t, pos[4].Offset, v.Tail.Offset)
	require.Equal(t, uint64(50), v.Tail.Bytes)

	res, err := wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.True(t, res.Cut)
	b, err := os.ReadFile(res.Broken)
	require.NoError(t, err)
	require.Len(t, b, 50)
	require.Empty(t, res.Quarantine)
}

func TestRepair_PreallocatedZerosAreNotCopied(t *testing.T) {
	dir, _ := buildLog(t, 1<<20, 5, 60)
	seg := segments(t, dir)[0]
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(make([]byte, 10000))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res, err := wal.Repair(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	require.True(t, res.Cut)
	require.Empty(t, res.Broken)
}

func TestVerify(t *testing.T) {
	dir, pos := buildLog(t, 500, 30, 60)
	v, err := wal.Verify(testCtx(t), dir, wal.Options{})
	require.NoError(t, err)
	assert.Equal(t, len(segments(t, dir)), v.Segments)
	assert.Equal(t, uint64(30), v.Records)
	assert.Equal(t, uint64(0), v.First)
	assert.Equal(t, pos[29].Offset, v.Last)
	assert.Equal(t, pos[29].End, v.End)
	assert.Equal(t, pos[29].End, v.Bytes)
	assert.Nil(t, v.Tail)

	empty := t.TempDir()
	v, err = wal.Verify(testCtx(t), empty, wal.Options{})
	require.NoError(t, err)
	assert.Equal(t, wal.VerifyResult{}, v)
}

func TestDump(t *testing.T) {
	dir := t.TempDir()
	l, err := wal.Open(dir, small(200))
	require.NoError(t, err)
	ctx := testCtx(t)
	p0, err := l.Append(ctx, []byte{0xde, 0xad})
	require.NoError(t, err)
	p1, err := l.Append(ctx, bytes.Repeat([]byte{0x11}, 40))
	require.NoError(t, err)
	p2, err := l.Append(ctx, []byte("abc"))
	require.NoError(t, err)
	require.NoError(t, l.Close())

	var out bytes.Buffer
	require.NoError(t, wal.Dump(ctx, dir, &out, 0, 0, wal.Options{}))
	want := "0\t2\tdead\n" +
		itoa(p1.Offset) + "\t40\t" + string(bytes.Repeat([]byte("11"), 32)) + "...\n" +
		itoa(p2.Offset) + "\t3\t616263\n"
	require.Equal(t, want, out.String())
	_ = p0

	out.Reset()
	require.NoError(t, wal.Dump(ctx, dir, &out, p1.Offset, 1, wal.Options{}))
	require.Equal(t, itoa(p1.Offset)+"\t40\t"+string(bytes.Repeat([]byte("11"), 32))+"...\n", out.String())

	out.Reset()
	require.NoError(t, wal.Dump(ctx, dir, &out, p1.Offset+1, 0, wal.Options{}), "from need not be a boundary")
	require.Equal(t, itoa(p2.Offset)+"\t3\t616263\n", out.String())
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
