package host

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// outputDecoder checks and decodes result regions. Its marks let it find a repeated
// index in one pass without clearing anything between groups.
type outputDecoder struct {
	seen  []uint32 // per candidate index: the epoch of the last group that used it
	epoch uint32
}

// decode parses a result region for groups into results (len(results) == len(groups)).
// The winners of all groups share one new backing array, so results stay valid after
// out (a view of guest memory) is reused. An error status becomes ErrLensReported with
// the guest's message; anything malformed becomes ErrBadOutput.
func (d *outputDecoder) decode(out []byte, groups []Group, results [][]int) error {
	le := binary.LittleEndian
	if len(out) < 4 {
		return fmt.Errorf("decode output: %w: %d bytes, no status", ErrBadOutput, len(out))
	}
	switch status := le.Uint32(out); status {
	case statusOK:
	case statusError:
		msg := out[4:]
		if len(msg) > maxErrorMessage {
			msg = msg[:maxErrorMessage]
		}
		return fmt.Errorf("%w: %s", ErrLensReported, sanitize(msg))
	default:
		return fmt.Errorf("decode output: %w: status %d", ErrBadOutput, status)
	}
	if len(out) > outputBound(groups) {
		return fmt.Errorf("decode output: %w: %d bytes, at most %d expected", ErrBadOutput, len(out), outputBound(groups))
	}

	// Count first, so that one allocation holds every winner.
	total := 0
	off := 4
	for gi := range groups {
		if len(out)-off < 4 {
			return fmt.Errorf("decode output group %d: %w: truncated", gi, ErrBadOutput)
		}
		n := int(le.Uint32(out[off:]))
		if n > len(groups[gi].Candidates) || n*4 > len(out)-off-4 {
			return fmt.Errorf("decode output group %d: %w: %d winners for %d candidates", gi, ErrBadOutput, n, len(groups[gi].Candidates))
		}
		total += n
		off += 4 + 4*n
	}
	if off != len(out) {
		return fmt.Errorf("decode output: %w: %d trailing bytes", ErrBadOutput, len(out)-off)
	}

	all := make([]int, total)
	off = 4
	for gi := range groups {
		nc := len(groups[gi].Candidates)
		n := int(le.Uint32(out[off:]))
		off += 4
		if cap(d.seen) < nc {
			d.seen = make([]uint32, nc)
		}
		d.epoch++
		if d.epoch == 0 { // wrapped: stale marks could look current
			clear(d.seen[:cap(d.seen)])
			d.epoch = 1
		}
		if n == 0 {
			results[gi] = nil
			continue
		}
		w := all[:n:n]
		all = all[n:]
		for i := range w {
			idx := le.Uint32(out[off:])
			off += 4
			if idx >= uint32(nc) {
				return fmt.Errorf("decode output group %d: %w: index %d of %d candidates", gi, ErrBadOutput, idx, nc)
			}
			if d.seen[idx] == d.epoch {
				return fmt.Errorf("decode output group %d: %w: index %d twice", gi, ErrBadOutput, idx)
			}
			d.seen[idx] = d.epoch
			w[i] = int(idx)
		}
		results[gi] = w
	}
	return nil
}

// sanitize makes guest text safe to log and show: valid UTF-8, no control characters.
func sanitize(b []byte) string {
	s := strings.ToValidUTF8(string(b), string(utf8.RuneError))
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
