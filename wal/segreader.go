package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readAhead is how much a segmentReader reads at once; records are small (a few hundred
// bytes), so one pread serves a hundred of them.
const readAhead = 64 << 10

// segmentReader decodes records from one segment file through a read-ahead buffer. It is
// shared by live Readers, recovery and the offline tools, so that all of them apply the
// same checks.
type segmentReader struct {
	f      *os.File
	path   string
	base   uint64 // global offset of the file's first byte
	maxLen int
	buf    []byte
	bufOff uint64 // global offset of buf[0]
	bufN   int    // valid bytes in buf
}

// openSegmentReader opens the segment starting at base in dir for reading.
func openSegmentReader(dir string, base uint64, maxLen int) (*segmentReader, error) {
	path := filepath.Join(dir, segmentName(base))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	return &segmentReader{f: f, path: path, base: base, maxLen: maxLen}, nil
}

// size returns the segment file's current size in bytes.
func (s *segmentReader) size() (int64, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat segment: %w", err)
	}
	return fi.Size(), nil
}

func (s *segmentReader) close() error { return s.f.Close() }

// corrupt builds the error for a record at pos that failed a check.
func (s *segmentReader) corrupt(pos uint64, reason error) *CorruptError {
	return &CorruptError{Path: s.path, Offset: pos, Reason: reason.Error(), cause: reason}
}

// next decodes the record at global offset pos without reading any byte at or past
// limit (the durable end, the next segment's base, or the file's end). The payload
// aliases the reader's buffer and is valid until the next call. A record that fails a
// check comes back as a *CorruptError; any other error is an I/O error.
func (s *segmentReader) next(pos, limit uint64) (payload []byte, end uint64, err error) {
	hb, err := s.bytes(pos, headerSize, limit)
	if err != nil {
		if errors.Is(err, errShort) {
			return nil, 0, s.corrupt(pos, fmt.Errorf("%w (data ends at offset %d)", errShortHeader, s.dataEnd(limit)))
		}
		return nil, 0, err
	}
	var h header
	copy(h[:], hb)
	if err := checkLength(&h, s.maxLen); err != nil {
		return nil, 0, s.corrupt(pos, err)
	}
	n := headerSize + int(h.length())
	rb, err := s.bytes(pos, n, limit)
	if err != nil {
		if errors.Is(err, errShort) {
			return nil, 0, s.corrupt(pos, fmt.Errorf("%w: record of %d bytes, data ends at offset %d", errShortPayload, n, s.dataEnd(limit)))
		}
		return nil, 0, err
	}
	payload = rb[headerSize:n]
	if err := checkPayload(&h, payload); err != nil {
		return nil, 0, s.corrupt(pos, err)
	}
	return payload, pos + uint64(n), nil
}

// errShort means the bytes asked for are not there: past limit or past the file's end.
var errShort = errors.New("short read")

// dataEnd is where the readable data stops, for error messages: limit, or the file's end
// when the file is shorter.
func (s *segmentReader) dataEnd(limit uint64) uint64 {
	if size, err := s.size(); err == nil && s.base+uint64(size) < limit {
		return s.base + uint64(size)
	}
	return limit
}

// bytes returns n bytes at global offset pos, from the buffer or a fresh read.
func (s *segmentReader) bytes(pos uint64, n int, limit uint64) ([]byte, error) {
	if pos < s.base || pos > limit || uint64(n) > limit-pos {
		return nil, errShort
	}
	if pos >= s.bufOff && pos+uint64(n) <= s.bufOff+uint64(s.bufN) {
		start := int(pos - s.bufOff)
		return s.buf[start : start+n], nil
	}
	want := max(n, readAhead)
	if rest := limit - pos; uint64(want) > rest {
		want = int(rest)
	}
	if want > readAhead {
		// A large record gets a buffer of its own rather than growing the shared one for
		// good.
		b := make([]byte, want)
		got, err := s.f.ReadAt(b, int64(pos-s.base))
		if got < n {
			return nil, s.readErr(err)
		}
		return b[:n], nil
	}
	if s.buf == nil {
		s.buf = make([]byte, readAhead)
	}
	got, err := s.f.ReadAt(s.buf[:want], int64(pos-s.base))
	s.bufOff, s.bufN = pos, got
	if got < n {
		return nil, s.readErr(err)
	}
	return s.buf[:n], nil
}

// readErr turns a short ReadAt into errShort (the file ends early) or an I/O error.
func (s *segmentReader) readErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return errShort
	}
	return fmt.Errorf("read %s: %w", s.path, err)
}
