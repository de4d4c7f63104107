package wal

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// VerifyResult summarises a verified log.
type VerifyResult struct {
	Segments int
	Records  uint64
	First    uint64 // offset of the first record: the first segment's base
	Last     uint64 // offset of the last valid record; meaningless when Records is 0
	End      uint64 // offset just past the last valid record
	Bytes    uint64 // End - First: record bytes, headers included
	Tail     *Tail  // bytes after the last valid record that the next Open truncates, or nil
}

// Verify reads every record of the log in dir and checks its length, CRC-32C and
// BLAKE3 hash, without opening the log for writing (it takes no lock, so it can run
// beside a server; the live tail then shows up as Tail). It stops at the first corrupt
// record of a sealed segment and returns a *CorruptError naming file and offset, with
// the counts up to there. opts supplies MaxRecordSize.
func Verify(ctx context.Context, dir string, opts Options) (VerifyResult, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify: %w", err)
	}
	var res VerifyResult
	info, err := walk(ctx, dir, opts.MaxRecordSize, 0, func(pos, _ uint64, _ []byte) error {
		res.Records++
		res.Last = pos
		return nil
	})
	res.Segments = len(info.bases)
	if len(info.bases) > 0 {
		res.First = info.bases[0]
	}
	res.End = max(info.end, res.First)
	res.Bytes = res.End - res.First
	res.Tail = info.tail
	if err != nil {
		return res, fmt.Errorf("verify %s: %w", dir, err)
	}
	return res, nil
}

// DumpPrefix is how many payload bytes Dump shows per record.
const DumpPrefix = 32

// Dump writes one line per record of the log in dir, starting at the first record at or
// after from, at most limit records (0: all):
//
//	<offset> <length> <first 32 payload bytes as hex>[...]
//
// separated by tabs; "..." marks a longer payload. A torn tail of the last segment ends
// the dump with a line starting with "#". A corrupt record in a sealed segment ends it
// with a *CorruptError.
func Dump(ctx context.Context, dir string, w io.Writer, from uint64, limit int, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	bw := bufio.NewWriter(w)
	n := 0
	info, err := walk(ctx, dir, opts.MaxRecordSize, from, func(pos, _ uint64, payload []byte) error {
		if limit > 0 && n >= limit {
			return errStopWalk
		}
		n++
		size, more := len(payload), ""
		if size > DumpPrefix {
			payload, more = payload[:DumpPrefix], "..."
		}
		_, err := fmt.Fprintf(bw, "%d\t%d\t%x%s\n", pos, size, payload, more)
		return err
	})
	if err == nil && info.tail != nil && (limit == 0 || n < limit) {
		t := info.tail
		_, err = fmt.Fprintf(bw, "# tail at %d: %d bytes the next open truncates (%s)\n", t.Offset, t.Bytes, t.Reason)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("dump %s: %w", dir, err)
	}
	return nil
}
