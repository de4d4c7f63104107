package wal_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stemedb/stemedb/wal"
)

// FuzzRecover writes arbitrary bytes as the last segment (after a valid sealed segment)
// and opens the log. Open must not fail or panic, must keep exactly a valid prefix of
// records, must be idempotent, and appends must continue at the recovered end.
func FuzzRecover(f *testing.F) {
	rec := func(p string) []byte { return wal.EncodeRecord([]byte(p)) }
	f.Add([]byte{})
	f.Add(rec("one"))
	f.Add(append(rec("one"), rec("two")...))
	f.Add(append(rec("one"), rec("two")[:20]...))
	f.Add(append(rec("one"), make([]byte, 100)...))
	f.Add(append(rec("one"), 0xff, 0xff, 0xff, 0xff))
	f.Add(bytes.Repeat([]byte{0xAB}, 300))
	torn := append(rec("one"), rec("two")...)
	torn[len(torn)-1] ^= 0x40
	f.Add(torn)

	sealed := append(wal.EncodeRecord([]byte("sealed-a")), wal.EncodeRecord([]byte("sealed-b"))...)
	opts := wal.Options{NoPreallocate: true, MaxRecordSize: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		base := uint64(len(sealed))
		must(t, os.WriteFile(filepath.Join(dir, wal.SegmentName(0)), sealed, 0o644))
		must(t, os.WriteFile(filepath.Join(dir, wal.SegmentName(base)), data, 0o644))

		l, err := wal.Open(dir, opts)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		end := l.End()
		if end < base || end > base+uint64(len(data)) {
			l.Close()
			t.Fatalf("end %d outside [%d, %d]", end, base, base+uint64(len(data)))
		}
		// What is kept is exactly the file's prefix up to end, and it is all valid.
		kept, err := os.ReadFile(filepath.Join(dir, wal.SegmentName(base)))
		must(t, err)
		if !bytes.Equal(kept, data[:end-base]) {
			l.Close()
			t.Fatalf("kept bytes are not a prefix of the input")
		}
		r, err := l.NewReader(0)
		must(t, err)
		ctx := context.Background()
		for r.Offset() < end {
			if _, err := r.Next(ctx); err != nil {
				l.Close()
				t.Fatalf("kept record at %d unreadable: %v", r.Offset(), err)
			}
		}
		p, err := l.Append(ctx, []byte("after"))
		must(t, err)
		if p.Offset != end {
			t.Fatalf("append at %d, want %d", p.Offset, end)
		}
		must(t, l.Close())

		// Idempotent: a second open finds everything valid.
		l, err = wal.Open(dir, opts)
		must(t, err)
		if l.End() != p.End {
			t.Fatalf("reopen end %d, want %d", l.End(), p.End)
		}
		must(t, l.Close())
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
