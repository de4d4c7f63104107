package materialize

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/zeebo/blake3"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// digestDomain starts the digested bytes, so that the digest cannot be mistaken for a
// hash of anything else.
const digestDomain = "stemedb/resolved-digest/v1\x00"

// Digest returns the state digest of `resolved` (ARCHITECTURE.md invariant 1): the
// lowercase hex BLAKE3-256 of its rows sorted by (lens, subject, predicate, rank), each
// row encoded as
//
//	str(lens) str(subject) str(predicate) u64 rank  32-byte assertion hash
//
// with str(x) = u32 length + bytes, integers big-endian, after the domain string
// "stemedb/resolved-digest/v1" 0x00. Two databases with equal digests answer every
// lens query alike; a rebuild from the log must reproduce the digest. The rows are read
// in one statement, so from one snapshot; q is the read pool or a transaction.
func Digest(ctx context.Context, q sqlview.Querier) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT lens, subject, predicate, rank, assertion_hash
		FROM resolved ORDER BY lens, subject, predicate, rank`)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	defer rows.Close()
	h := blake3.New()
	h.WriteString(digestDomain)
	var (
		buf                     []byte
		lens, subject, pred, hx []byte
		rank                    int64
	)
	for rows.Next() {
		// RawBytes would save copies but is only valid until Next; these are reused.
		if err := rows.Scan(&lens, &subject, &pred, &rank, &hx); err != nil {
			return "", fmt.Errorf("digest: %w", err)
		}
		hash, err := assertion.ParseHash(string(hx))
		if err != nil {
			return "", fmt.Errorf("digest: stored hash: %w", err)
		}
		buf = appendStr(buf[:0], lens)
		buf = appendStr(buf, subject)
		buf = appendStr(buf, pred)
		buf = binary.BigEndian.AppendUint64(buf, uint64(rank))
		buf = append(buf, hash[:]...)
		h.Write(buf)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func appendStr(dst, s []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}
