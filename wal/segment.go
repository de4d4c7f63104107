package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	segmentExt     = ".wal"
	segmentNameLen = 20 + len(segmentExt)
	// preparedPrefix names the zero-filled files made ahead of rotation. They are not
	// segments until renamed, and Open deletes any left by a crash.
	preparedPrefix = "prepared-"
	preparedExt    = ".tmp"
)

// segmentName is the file name of the segment whose first byte is at offset base.
func segmentName(base uint64) string {
	return fmt.Sprintf("%020d%s", base, segmentExt)
}

// parseSegmentName returns the base offset named by a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != segmentNameLen || !strings.HasSuffix(name, segmentExt) {
		return 0, false
	}
	digits := name[:20]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil
}

// listSegments returns the base offsets of the segments in dir, in order. Other files
// (the lock, prepared files, repair leftovers) are ignored.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	var bases []uint64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if base, ok := parseSegmentName(e.Name()); ok {
			bases = append(bases, base)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// findSegment returns the index of the segment holding offset: the last base <= offset,
// found by binary search. It returns -1 when offset precedes the first segment.
func findSegment(bases []uint64, offset uint64) int {
	i := sort.Search(len(bases), func(i int) bool { return bases[i] > offset })
	return i - 1
}

// syncDir fsyncs a directory so that file creations, renames and removals in it survive
// a crash; on Linux a new file's data can be durable while its name is not.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// removePrepared deletes zero-filled files left over from before a crash or close.
func removePrepared(dir string) error {
	matches, err := filepath.Glob(filepath.Join(dir, preparedPrefix+"*"+preparedExt))
	if err != nil {
		return fmt.Errorf("remove prepared files: %w", err)
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove prepared file: %w", err)
		}
	}
	return nil
}
