package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

func TestRecord_Layout(t *testing.T) {
	payload := []byte("hello")
	b := appendRecord(nil, payload)
	require.Len(t, b, headerSize+len(payload))
	require.Equal(t, uint32(len(payload)), binary.BigEndian.Uint32(b[0:4]), "len is big-endian u32")
	sum := blake3.Sum256(payload)
	require.Equal(t, sum[:], b[8:40], "then the BLAKE3-256 of the payload")
	want := crc32.Checksum(append(sum[:], payload...), crc32.MakeTable(crc32.Castagnoli))
	require.Equal(t, want, binary.BigEndian.Uint32(b[4:8]), "crc32c over hash then payload")
	require.Equal(t, want, checksum(&sum, payload))
	require.Equal(t, payload, b[40:])

	got, n, err := decodeRecord(b, 100)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	require.Equal(t, payload, got)
}

func TestRecord_EmptyPayloadIsNotAZeroHeader(t *testing.T) {
	b := appendRecord(nil, nil)
	var h header
	copy(h[:], b)
	require.False(t, h.isZero(), "crc32c(blake3(\"\")) must be non-zero, or an empty record would read as end of data")
	_, n, err := decodeRecord(b, 10)
	require.NoError(t, err)
	require.Equal(t, headerSize, n)
}

func TestRecord_DecodeErrors(t *testing.T) {
	good := appendRecord(nil, []byte("payload"))
	tests := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"empty", nil, 100, errShortHeader},
		{"short header", good[:headerSize-1], 100, errShortHeader},
		{"zero header", make([]byte, 64), 100, errZeroHeader},
		{"short payload", good[:len(good)-1], 100, errShortPayload},
		{"too long", good, 6, errTooLong},
		{"bad crc", func() []byte { b := bytes.Clone(good); b[5] ^= 1; return b }(), 100, errBadCRC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeRecord(tt.b, tt.max)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestRecord_HashCheckedBeyondCRC forges a record whose CRC matches a wrong hash: only
// the BLAKE3 check can catch it.
func TestRecord_HashCheckedBeyondCRC(t *testing.T) {
	payload := []byte("payload")
	b := appendRecord(nil, payload)
	wrong := blake3.Sum256([]byte("other"))
	copy(b[8:40], wrong[:])
	binary.BigEndian.PutUint32(b[4:8], checksum(&wrong, payload))
	_, _, err := decodeRecord(b, 100)
	require.ErrorIs(t, err, errBadHash)
}

func TestRecord_EveryBitFlipDetected(t *testing.T) {
	good := appendRecord(nil, []byte("a small payload"))
	for bit := range len(good) * 8 {
		b := bytes.Clone(good)
		b[bit/8] ^= 1 << (bit % 8)
		// Decode with room to spare, so that a grown length is not caught merely by
		// running out of bytes.
		b = append(b, make([]byte, 300)...)
		_, _, err := decodeRecord(b, 1<<20)
		require.Error(t, err, "bit %d", bit)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, []byte("hello")), 1<<20)
	f.Add(appendRecord(nil, nil), 16)
	f.Add(appendRecord(appendRecord(nil, []byte("one")), []byte("two")), 100)
	f.Add(make([]byte, headerSize), 100)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 1<<20)
	f.Fuzz(func(t *testing.T, b []byte, maxLen int) {
		if maxLen < 0 {
			maxLen = -maxLen
		}
		payload, n, err := decodeRecord(b, maxLen)
		if err != nil {
			if !errors.Is(err, errShortHeader) && !errors.Is(err, errZeroHeader) &&
				!errors.Is(err, errShortPayload) && !errors.Is(err, errTooLong) &&
				!errors.Is(err, errBadCRC) && !errors.Is(err, errBadHash) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if n > len(b) || len(payload) > maxLen {
			t.Fatalf("decoded %d bytes (payload %d) from %d, max %d", n, len(payload), len(b), maxLen)
		}
		if enc := appendRecord(nil, payload); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("a decoded record must re-encode to the same bytes")
		}
	})
}
