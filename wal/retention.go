package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DeleteBefore deletes the segments that lie entirely below offset, oldest first, and
// returns how many it deleted. The active segment is never deleted, so the log keeps at
// least its last segment. Pass the lowest offset that every consumer has passed (for
// StemeDB: the ingested offset stored with the SQLite rows). Readers positioned below
// the new First() get ErrDeleted.
func (l *Log) DeleteBefore(offset uint64) (int, error) {
	if l.isClosed() {
		return 0, fmt.Errorf("delete before %d: %w", offset, ErrClosed)
	}
	l.retention.Lock()
	defer l.retention.Unlock()

	l.mu.Lock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1] <= offset {
		n++
	}
	victims := append([]uint64(nil), l.segs[:n]...)
	if n > 0 {
		l.segs = append([]uint64(nil), l.segs[n:]...)
		l.first.Store(l.segs[0])
	}
	l.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	// Oldest first, stopping at the first failure: whatever is left on disk stays a
	// contiguous log, and the next Open simply lists it again.
	for i, base := range victims {
		err := os.Remove(filepath.Join(l.dir, segmentName(base)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return i, fmt.Errorf("delete before %d: %w", offset, err)
		}
	}
	if err := syncDir(l.dir); err != nil {
		return n, fmt.Errorf("delete before %d: %w", offset, err)
	}
	l.opts.Logger.Info("wal: deleted segments", "dir", l.dir, "count", n, "first", l.First())
	return n, nil
}
