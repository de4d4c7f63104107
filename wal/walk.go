package wal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// Tail is what follows the last valid record of the last segment: the bytes the next
// Open truncates. After a crash that is normal (a torn write, or preallocated zeros); the
// offline tools report it rather than fail on it.
type Tail struct {
	Segment string // path of the last segment
	Offset  uint64 // where the valid data ends
	Bytes   uint64 // how many bytes follow it
	Reason  string // why the record at Offset is not valid
}

// walkInfo is what a walk saw.
type walkInfo struct {
	bases []uint64 // every segment in dir
	end   uint64   // just past the last valid record walked
	tail  *Tail
}

// errStopWalk stops a walk early without error.
var errStopWalk = errors.New("stop walk")

// walk reads the log in dir without opening it for writing, calling fn for every valid
// record at or after from, in order. Every record of every segment it passes is checked,
// including records before from in from's segment. A record failing its checks in a
// sealed segment, or a sealed segment longer than its range, is returned as a
// *CorruptError; in the last segment it ends the walk and is described in the tail, the
// same rule as Open's recovery.
func walk(ctx context.Context, dir string, maxLen int, from uint64,
	fn func(pos, end uint64, payload []byte) error) (walkInfo, error) {
	bases, err := listSegments(dir)
	if err != nil {
		return walkInfo{}, err
	}
	info := walkInfo{bases: bases}
	if len(bases) == 0 {
		return info, nil
	}
	start := max(findSegment(bases, from), 0)
	info.end = bases[start]
	for i := start; i < len(bases); i++ {
		stop, err := walkSegment(ctx, dir, maxLen, bases, i, from, &info, fn)
		if err != nil || stop {
			return info, err
		}
	}
	return info, nil
}

// walkSegment walks segment i of bases; see walk.
func walkSegment(ctx context.Context, dir string, maxLen int, bases []uint64, i int, from uint64,
	info *walkInfo, fn func(pos, end uint64, payload []byte) error) (stop bool, err error) {
	sr, err := openSegmentReader(dir, bases[i], maxLen)
	if err != nil {
		return false, err
	}
	defer sr.close()
	size, err := sr.size()
	if err != nil {
		return false, err
	}
	last := i == len(bases)-1
	limit := bases[i] + uint64(size)
	if !last {
		// A sealed segment's data ends where the next one starts. A short file is caught
		// by the record that runs off its end, a long one after the loop.
		limit = bases[i+1]
	}
	pos := bases[i]
	for n := 0; pos < limit; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		payload, end, err := sr.next(pos, limit)
		var ce *CorruptError
		if last && errors.As(err, &ce) {
			info.tail = &Tail{Segment: sr.path, Offset: pos, Bytes: limit - pos, Reason: ce.Reason}
			return true, nil
		}
		if err != nil {
			return true, err
		}
		if pos >= from && fn != nil {
			if err := fn(pos, end, payload); err != nil {
				if errors.Is(err, errStopWalk) {
					return true, nil
				}
				return true, err
			}
		}
		pos = end
		info.end = end
	}
	if !last {
		return false, sealedEndError(sr, size, bases[i+1])
	}
	return false, nil
}

// segmentBase returns the base offset named by a segment path, for errors from walk.
func segmentBase(path string) (uint64, error) {
	base, ok := parseSegmentName(filepath.Base(path))
	if !ok {
		return 0, fmt.Errorf("not a segment file name: %q", path)
	}
	return base, nil
}
