package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/zeebo/blake3"
)

// headerSize is the fixed part of a record: len u32, crc32c u32, blake3 [32]byte.
const headerSize = 4 + 4 + 32

// castagnoli is the CRC-32C table; crc32 uses the SSE4.2/ARMv8 instruction for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a record's fixed part, encoded as it sits on disk.
type header [headerSize]byte

// encodeHeader fills h for payload: it hashes the payload, so callers run it on their own
// goroutine rather than on the single committer.
func encodeHeader(h *header, payload []byte) {
	sum := blake3.Sum256(payload)
	binary.BigEndian.PutUint32(h[0:4], uint32(len(payload)))
	copy(h[8:40], sum[:])
	binary.BigEndian.PutUint32(h[4:8], checksum(&sum, payload))
}

// checksum is the record CRC: CRC-32C of the 32 hash bytes followed by the payload.
// The hash bytes go through the table by hand: handing them to crc32.Update (an
// indirect call) would move them to the heap, one allocation per Append.
func checksum(hash *[32]byte, payload []byte) uint32 {
	crc := ^uint32(0)
	for _, b := range hash {
		crc = castagnoli[byte(crc)^b] ^ (crc >> 8)
	}
	return crc32.Update(^crc, castagnoli, payload)
}

func (h *header) length() uint32 { return binary.BigEndian.Uint32(h[0:4]) }
func (h *header) crc() uint32    { return binary.BigEndian.Uint32(h[4:8]) }

// isZero reports the end-of-data marker: a zero length and a zero CRC. No real record
// has it, because a zero length means an empty payload, whose CRC is the fixed non-zero
// value crc32c(blake3("")). A preallocated segment is zeros after its last record.
func (h *header) isZero() bool { return h.length() == 0 && h.crc() == 0 }

// appendRecord appends the full encoding of payload to dst.
func appendRecord(dst, payload []byte) []byte {
	var h header
	encodeHeader(&h, payload)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// Decoding outcomes other than success. They are kept apart because recovery treats all
// of them as "end of valid data" while a reader of sealed data reports them as corruption,
// and the reason goes into the log line or the CorruptError.
var (
	errShortHeader  = errors.New("incomplete header")
	errZeroHeader   = errors.New("zero header (end of data)")
	errShortPayload = errors.New("incomplete payload")
	errTooLong      = errors.New("length exceeds max record size")
	errBadCRC       = errors.New("crc32c mismatch")
	errBadHash      = errors.New("blake3 mismatch")
)

// checkLength validates a header's length before anything is allocated for it.
func checkLength(h *header, maxLen int) error {
	if h.isZero() {
		return errZeroHeader
	}
	if uint64(h.length()) > uint64(maxLen) {
		return fmt.Errorf("%w: %d > %d", errTooLong, h.length(), maxLen)
	}
	return nil
}

// checkPayload verifies the CRC and then the hash of payload against h.
func checkPayload(h *header, payload []byte) error {
	if checksum((*[32]byte)(h[8:40]), payload) != h.crc() {
		return errBadCRC
	}
	if blake3.Sum256(payload) != [32]byte(h[8:40]) {
		return errBadHash
	}
	return nil
}

// decodeRecord decodes the record at the start of b. It returns the payload (aliasing b)
// and the record's total size. It never reads past b and never allocates, whatever the
// bytes say.
func decodeRecord(b []byte, maxLen int) (payload []byte, n int, err error) {
	if len(b) < headerSize {
		return nil, 0, errShortHeader
	}
	h := (*header)(b[:headerSize])
	if err := checkLength(h, maxLen); err != nil {
		return nil, 0, err
	}
	n = headerSize + int(h.length())
	if len(b) < n {
		return nil, 0, errShortPayload
	}
	payload = b[headerSize:n]
	if err := checkPayload(h, payload); err != nil {
		return nil, 0, err
	}
	return payload, n, nil
}
