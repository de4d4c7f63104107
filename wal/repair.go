package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// RepairResult says what Repair did. When nothing was wrong, only End is set.
type RepairResult struct {
	Cut         bool     // whether the log was truncated
	Segment     string   // the segment that was truncated
	Offset      uint64   // where the first bad record started: the log now ends here
	Reason      string   // why that record was bad
	Broken      string   // copy of the bytes cut from Segment; "" if there were none
	Quarantine  string   // folder holding the later segments; "" if there were none
	Quarantined []string // the segment files moved there
	End         uint64   // the log's end after the repair
}

// Repair truncates the log in dir at its first bad record, the one step that Open never
// takes by itself for a sealed segment. It reads every record (like Verify); at the
// first record that fails its checks, at offset X in segment S, it
//
//  1. copies S's bytes from X to its end into S.broken-X (beside S) and fsyncs it;
//  2. moves every later segment into the folder quarantine-X (inside dir), so that
//     nothing after the damage is lost, only taken out of the log;
//  3. truncates S at X and fsyncs it.
//
// The log then ends at X; the next Append writes there. Consumers that had read past X
// hold state the log no longer has and must be rebuilt from the log. A sealed segment
// that is merely longer than its range loses only its extra bytes (to S.broken-X) and
// the later segments stay. A torn tail of the last segment is cut the same way (with a
// copy), as Open would. Repair takes the directory lock, so it fails with ErrLocked
// while a Log is open on dir. If it is interrupted, running it again finishes the job.
func Repair(ctx context.Context, dir string, opts Options) (RepairResult, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return RepairResult{}, fmt.Errorf("repair: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return RepairResult{}, fmt.Errorf("repair: %w", err)
	}
	defer lock.Close()
	if err := removePrepared(dir); err != nil {
		return RepairResult{}, fmt.Errorf("repair: %w", err)
	}

	info, err := walk(ctx, dir, opts.MaxRecordSize, 0, nil)
	var ce *CorruptError
	var res RepairResult
	switch {
	case errors.As(err, &ce):
		res = RepairResult{Segment: ce.Path, Offset: ce.Offset, Reason: ce.Reason}
	case err != nil:
		return RepairResult{}, fmt.Errorf("repair %s: %w", dir, err)
	case info.tail != nil:
		res = RepairResult{Segment: info.tail.Segment, Offset: info.tail.Offset, Reason: info.tail.Reason}
	default:
		return RepairResult{End: info.end}, nil
	}

	base, err := segmentBase(res.Segment)
	if err != nil {
		return RepairResult{}, fmt.Errorf("repair %s: %w", dir, err)
	}
	i := slices.Index(info.bases, base)
	var later []uint64
	if i+1 < len(info.bases) && res.Offset != info.bases[i+1] {
		// Damage inside the segment: what follows it no longer joins up.
		later = info.bases[i+1:]
	}
	if err := cut(dir, base, res.Offset, later, &res); err != nil {
		return res, fmt.Errorf("repair %s: %w", dir, err)
	}
	res.Cut = true
	res.End = res.Offset
	if len(later) == 0 && i+1 < len(info.bases) {
		res.End = info.end // only extra bytes were cut; the log goes on
	}
	opts.Logger.Warn("wal: repair truncated the log", "segment", res.Segment, "offset", res.Offset,
		"reason", res.Reason, "broken_copy", res.Broken, "quarantine", res.Quarantine,
		"quarantined", len(res.Quarantined))
	return res, nil
}

// cut copies segment base's bytes from offset on to a .broken file, moves the later
// segments into a quarantine folder, then truncates the segment at offset. The copy and
// the moves are durable before the truncation, so a crash in between loses nothing and a
// second Repair finishes the job.
func cut(dir string, base, offset uint64, later []uint64, res *RepairResult) error {
	path := filepath.Join(dir, segmentName(base))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	keep := int64(offset - base)
	zero, err := allZero(f, keep, fi.Size()-keep)
	if err != nil {
		return err
	}
	if !zero {
		// Preallocated zeros are not worth a copy; anything else is.
		broken := freeName(fmt.Sprintf("%s.broken-%020d", path, offset))
		if err := copyRange(f, keep, fi.Size()-keep, broken); err != nil {
			return err
		}
		res.Broken = broken
	}
	if len(later) > 0 {
		q := freeName(filepath.Join(dir, fmt.Sprintf("quarantine-%020d", offset)))
		if err := os.Mkdir(q, 0o755); err != nil {
			return fmt.Errorf("create quarantine: %w", err)
		}
		res.Quarantine = q
		for _, b := range later {
			name := segmentName(b)
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(q, name)); err != nil {
				return fmt.Errorf("quarantine segment: %w", err)
			}
			res.Quarantined = append(res.Quarantined, name)
		}
		if err := syncDir(q); err != nil {
			return err
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := f.Truncate(keep); err != nil {
		return fmt.Errorf("truncate segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("truncate segment: fsync: %w", err)
	}
	return nil
}

// allZero reports whether n bytes of f from off are all zero (true for n <= 0).
func allZero(f *os.File, off, n int64) (bool, error) {
	buf := make([]byte, min(n, readAhead))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.ReadAt(buf[:k], off); err != nil {
			return false, fmt.Errorf("read segment: %w", err)
		}
		for _, c := range buf[:k] {
			if c != 0 {
				return false, nil
			}
		}
		off, n = off+k, n-k
	}
	return true, nil
}

// copyRange copies n bytes of src from off into a new file at path and fsyncs it.
func copyRange(src *os.File, off, n int64, path string) error {
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create broken copy: %w", err)
	}
	if _, err := io.Copy(dst, io.NewSectionReader(src, off, n)); err != nil {
		dst.Close()
		return fmt.Errorf("write broken copy: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("write broken copy: fsync: %w", err)
	}
	return dst.Close()
}

// freeName returns path, or path.1, path.2, ... if it is taken, so that a second repair
// at the same offset never overwrites the first one's copies.
func freeName(path string) string {
	name := path
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.%d", path, i)
	}
}
