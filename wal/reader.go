package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Record is one record read from the log.
type Record struct {
	// Offset is where the record starts; End is just past it (the next record's Offset).
	Offset, End uint64
	// Payload is the caller's own copy.
	Payload []byte
}

// Reader reads records in offset order, from a starting offset to the durable end and
// then, blocking, as new records become durable, across segment rotations. It sees only
// fsynced records, so nothing built from them can get ahead of what the log keeps.
//
// A Reader is for one goroutine. To stop a blocked Next, cancel its context.
type Reader struct {
	l      *Log
	pos    uint64
	seg    *segmentReader
	limit  uint64 // when sealed: the next segment's base, where seg's data ends
	sealed bool
	closed bool
}

// NewReader returns a Reader whose first record is the one at from. from must be a
// record boundary: 0, First(), or a Position.End / Record.End seen before; any other
// offset reads as corrupt. It fails with ErrDeleted below First() and ErrOutOfRange above
// End().
func (l *Log) NewReader(from uint64) (*Reader, error) {
	if l.isClosed() {
		return nil, fmt.Errorf("new reader: %w", ErrClosed)
	}
	if first := l.First(); from < first {
		return nil, fmt.Errorf("new reader at %d (first is %d): %w", from, first, ErrDeleted)
	}
	if end := l.End(); from > end {
		return nil, fmt.Errorf("new reader at %d (end is %d): %w", from, end, ErrOutOfRange)
	}
	return &Reader{l: l, pos: from}, nil
}

// Offset returns the offset of the next record Next will return.
func (r *Reader) Offset() uint64 { return r.pos }

// Next returns the next record, waiting until one is durable or ctx ends. It returns a
// *CorruptError (ErrCorrupt) for a record that fails its checks and never skips one,
// ErrDeleted once its position was removed by retention, and ErrClosed after Close of
// the Reader or the Log.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		if r.closed || r.l.isClosed() {
			return Record{}, fmt.Errorf("next: %w", ErrClosed)
		}
		d := r.l.durable.Load()
		if r.pos < d.end {
			rec, err := r.read(d.end)
			if err != nil {
				return Record{}, fmt.Errorf("next: %w", err)
			}
			return rec, nil
		}
		select {
		case <-d.ch:
		case <-r.l.closed:
		case <-ctx.Done():
			return Record{}, fmt.Errorf("next: %w", ctx.Err())
		}
	}
}

// read decodes the record at r.pos, which is below the durable end durEnd.
func (r *Reader) read(durEnd uint64) (Record, error) {
	if first := r.l.First(); r.pos < first {
		r.release()
		return Record{}, fmt.Errorf("offset %d (first is %d): %w", r.pos, first, ErrDeleted)
	}
	if r.seg == nil || !r.sealed || r.pos >= r.limit {
		if err := r.locate(); err != nil {
			return Record{}, err
		}
	}
	limit := durEnd
	if r.sealed {
		limit = r.limit
	}
	payload, end, err := r.seg.next(r.pos, limit)
	if err != nil {
		return Record{}, err
	}
	rec := Record{Offset: r.pos, End: end, Payload: make([]byte, len(payload))}
	copy(rec.Payload, payload)
	r.pos = end
	return rec, nil
}

// locate points r.seg at the segment holding r.pos and works out whether it is sealed.
// The caller loaded the durable end before this reads the segment list, and the
// committer lists a new segment before it publishes a durable end inside it: so when
// r.pos's segment is the last listed one, the durable end lies inside that segment.
func (r *Reader) locate() error {
	l := r.l
	l.mu.RLock()
	i := findSegment(l.segs, r.pos)
	if i < 0 {
		first := uint64(0)
		if len(l.segs) > 0 {
			first = l.segs[0]
		}
		l.mu.RUnlock()
		return fmt.Errorf("offset %d (first is %d): %w", r.pos, first, ErrDeleted)
	}
	base := l.segs[i]
	sealed := i+1 < len(l.segs)
	var limit uint64
	if sealed {
		limit = l.segs[i+1]
	}
	l.mu.RUnlock()

	if r.seg != nil && r.seg.base != base {
		// Leaving a segment, now sealed: its file must end exactly where the next one
		// starts. Bytes beyond would overlap the next segment's offsets.
		if err := r.checkSealedEnd(base); err != nil {
			return err
		}
		r.release()
	}
	if r.seg == nil {
		seg, err := openSegmentReader(l.dir, base, l.opts.MaxRecordSize)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && r.pos < l.First() {
				return fmt.Errorf("offset %d: %w", r.pos, ErrDeleted)
			}
			return err
		}
		r.seg = seg
	}
	r.sealed, r.limit = sealed, limit
	return nil
}

// checkSealedEnd reports r.seg as corrupt if its file runs past next, the base of the
// segment that follows it, when the reader crosses over to that segment.
func (r *Reader) checkSealedEnd(next uint64) error {
	if r.pos != next {
		return nil
	}
	size, err := r.seg.size()
	if err != nil {
		return err
	}
	return sealedEndError(r.seg, size, next)
}

// sealedEndError returns a *CorruptError when a sealed segment of the given size extends
// past next, the following segment's base.
func sealedEndError(s *segmentReader, size int64, next uint64) error {
	if end := s.base + uint64(size); end > next {
		return &CorruptError{Path: s.path, Offset: next,
			Reason: fmt.Sprintf("%d bytes past the segment's end (the next segment starts at %d)", end-next, next)}
	}
	return nil
}

// release closes the current segment file.
func (r *Reader) release() {
	if r.seg != nil {
		r.seg.close()
		r.seg = nil
	}
}

// Close releases the Reader's file. Next then returns ErrClosed.
func (r *Reader) Close() error {
	r.closed = true
	r.release()
	return nil
}
