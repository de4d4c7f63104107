package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// recover rebuilds the log's state from dir: it lists the segments, scans the last one
// and truncates whatever follows its last valid record. Sealed segments are not read
// (they are verified when read), so Open costs one segment's scan however long the log.
func (l *Log) recover() error {
	if err := removePrepared(l.dir); err != nil {
		return err
	}
	bases, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if len(bases) == 0 {
		f, err := createSegment(filepath.Join(l.dir, segmentName(0)))
		if err != nil {
			return err
		}
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return err
		}
		bases = []uint64{0}
		l.f = f
	} else {
		f, end, err := l.scanTail(bases[len(bases)-1])
		if err != nil {
			return err
		}
		l.f, l.wend = f, end
	}
	l.segs = bases
	l.first.Store(bases[0])
	l.wbase = bases[len(bases)-1]
	if l.wend < l.wbase {
		l.wend = l.wbase
	}
	l.publish(l.wend)
	l.opts.Logger.Info("wal: opened", "dir", l.dir, "segments", len(bases),
		"first", bases[0], "end", l.wend)
	return nil
}

// scanTail opens the last segment read-write, finds the end of its valid records and
// truncates anything after it: a torn write, a corrupt record and everything behind it,
// or preallocated zeros. It returns the open file and the log's end offset.
func (l *Log) scanTail(base uint64) (*os.File, uint64, error) {
	path := filepath.Join(l.dir, segmentName(base))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open last segment: %w", err)
	}
	end, reason, size, err := scanSegment(f, path, base, l.opts.MaxRecordSize)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if end == base+uint64(size) {
		return f, end, nil
	}
	cut := base + uint64(size) - end
	if errors.Is(reason, errZeroHeader) {
		// Normal after a crash with a preallocated segment: not data, just its zeros.
		l.opts.Logger.Info("wal: trimmed preallocated tail of last segment", "segment", path,
			"offset", end, "bytes", cut)
	} else {
		l.opts.Logger.Warn("wal: truncated torn or corrupt tail of last segment", "segment", path,
			"offset", end, "end_offset", base+uint64(size), "bytes", cut, "reason", reason)
	}
	if err := f.Truncate(int64(end - base)); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("truncate tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("truncate tail: fsync: %w", err)
	}
	return f, end, nil
}

// scanSegment reads f's records from its start to the first one that fails a check, and
// returns where the valid data ends, why it ends there (nil when it runs to the end of
// the file) and the file's size.
func scanSegment(f *os.File, path string, base uint64, maxLen int) (end uint64, reason error, size int64, err error) {
	sr := &segmentReader{f: f, path: path, base: base, maxLen: maxLen}
	size, err = sr.size()
	if err != nil {
		return 0, nil, 0, err
	}
	limit := base + uint64(size)
	pos := base
	for pos < limit {
		_, next, err := sr.next(pos, limit)
		var ce *CorruptError
		if errors.As(err, &ce) {
			return pos, ce.cause, size, nil
		}
		if err != nil {
			return 0, nil, 0, err
		}
		pos = next
	}
	return pos, nil, size, nil
}
