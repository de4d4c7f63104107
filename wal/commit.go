package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

// maxWriteBuf caps the bytes gathered for one write(2). Beyond it a batch is written in
// several writes (still one fsync), so a queue of large records never needs one huge
// buffer.
const maxWriteBuf = 1 << 20

// run is the committer: the only goroutine that writes segment files. Each turn takes
// everything queued, writes it, fsyncs once and acknowledges the whole batch.
func (l *Log) run() {
	defer close(l.committerDone)
	expect := 1
	for {
		b := l.q.next(expect)
		if b == nil {
			return
		}
		expect = len(b.recs)
		l.commit(b)
	}
}

// commit makes one batch durable, or fails it and, for good, the log.
func (l *Log) commit(b *batch) {
	recs := b.recs
	b.recs = nil
	if l.failErr != nil {
		b.err = l.failErr
	} else {
		pos := make([]Position, len(recs))
		if err := l.write(recs, pos); err != nil {
			l.failErr = fmt.Errorf("%w: %w", ErrFailed, err)
			l.q.fail(l.failErr)
			l.opts.Logger.Error("wal: write failed; the log refuses appends until reopened",
				"dir", l.dir, "durable_end", l.End(), "err", err)
			b.err = l.failErr
		} else {
			b.pos = pos
			l.stats.records.Add(uint64(len(recs)))
			l.stats.batches.Add(1)
			l.publish(l.wend)
		}
	}
	l.q.recycle(recs)
	close(b.done)
}

// write writes recs at the end of the log, rotating where a record would cross the
// segment size, and fsyncs. pos receives each record's position.
func (l *Log) write(recs []record, pos []Position) error {
	if l.sealsEarly() && l.wend > l.wbase && l.prep.hasReady() {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	for i := range recs {
		r := &recs[i]
		size := uint64(headerSize + len(r.payload))
		at := l.wend + uint64(len(l.buf))
		if at > l.wbase && at-l.wbase+size > uint64(l.opts.SegmentSize) {
			if err := l.rotate(); err != nil {
				return err
			}
			at = l.wend
		}
		if len(l.buf) > 0 && len(l.buf)+int(size) > maxWriteBuf {
			if err := l.flush(); err != nil {
				return err
			}
		}
		if size > maxWriteBuf {
			// Too big to copy: header and payload go straight from the caller's memory.
			if err := l.writeAt(r.hdr[:]); err != nil {
				return err
			}
			if err := l.writeAt(r.payload); err != nil {
				return err
			}
		} else {
			l.buf = append(l.buf, r.hdr[:]...)
			l.buf = append(l.buf, r.payload...)
		}
		pos[i] = Position{Offset: at, End: at + size}
	}
	if err := l.flush(); err != nil {
		return err
	}
	return l.sync()
}

// flush writes the buffered records at wend.
func (l *Log) flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.writeAt(l.buf)
	l.buf = l.buf[:0]
	return err
}

// writeAt writes p at wend and advances wend.
func (l *Log) writeAt(p []byte) error {
	if l.faults.write != nil {
		if err := l.faults.write(); err != nil {
			return fmt.Errorf("write %s: %w", l.f.Name(), err)
		}
	}
	if _, err := l.f.WriteAt(p, int64(l.wend-l.wbase)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	l.wend += uint64(len(p))
	l.unsynced = true
	l.stats.bytes.Add(uint64(len(p)))
	if l.wantPrepared() {
		l.prep.request()
		l.requested = true
	}
	return nil
}

// sync fdatasyncs the active segment if anything was written since the last sync.
func (l *Log) sync() error {
	if !l.unsynced {
		return nil
	}
	if l.faults.sync != nil {
		if err := l.faults.sync(); err != nil {
			return fmt.Errorf("fdatasync %s: %w", l.f.Name(), err)
		}
	}
	if err := l.flushFile(); err != nil {
		return err
	}
	l.unsynced = false
	l.stats.syncs.Add(1)
	return nil
}

// rotate seals the active segment and starts a new one at wend. Order matters for crash
// safety: the old segment's data and its trimmed size are durable before the new
// segment's name is, so after a crash the last segment is always the only one that can
// hold a torn tail or preallocated zeros.
func (l *Log) rotate() error {
	if err := l.flush(); err != nil {
		return err
	}
	if err := l.sync(); err != nil {
		return err
	}
	if l.wprealloc {
		if err := l.trimActive(); err != nil {
			return err
		}
	}
	f, prealloc, err := l.newSegmentFile(l.wend)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		f.Close()
		return fmt.Errorf("close sealed segment: %w", err)
	}
	l.f, l.wbase, l.wprealloc, l.requested = f, l.wend, prealloc, false
	l.mu.Lock()
	l.segs = append(l.segs, l.wbase)
	l.mu.Unlock()
	l.stats.rotations.Add(1)
	return nil
}

// trimActive cuts the preallocated zeros off the active segment and makes the new size
// durable, so that a sealed segment has no padding, as the format requires.
func (l *Log) trimActive() error {
	if err := l.f.Truncate(int64(l.wend - l.wbase)); err != nil {
		return fmt.Errorf("trim segment: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("trim segment: fsync: %w", err)
	}
	l.wprealloc = false
	return nil
}

// newSegmentFile creates the segment file for base, from a prepared zero-filled file when
// one is ready, else empty, and makes its name durable.
func (l *Log) newSegmentFile(base uint64) (f *os.File, prealloc bool, err error) {
	path := filepath.Join(l.dir, segmentName(base))
	if pf := l.prep.take(); pf != nil {
		tmp := pf.Name()
		pf.Close()
		if err := os.Rename(tmp, path); err == nil {
			if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
				return nil, false, fmt.Errorf("open prepared segment: %w", err)
			}
			prealloc = true
		} else {
			// Not worth failing the log over: fall back to an empty segment.
			l.opts.Logger.Warn("wal: installing prepared segment failed", "err", err)
			os.Remove(tmp)
		}
	}
	if f == nil {
		if f, err = createSegment(path); err != nil {
			return nil, false, err
		}
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, prealloc, nil
}

// createSegment creates an empty segment file and fsyncs it. The caller fsyncs the dir.
func createSegment(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("create segment: fsync: %w", err)
	}
	return f, nil
}
