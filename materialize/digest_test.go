package materialize_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"

	"github.com/stemedb/stemedb/materialize"
)

// TestDigest_Encoding recomputes the digest from the rows as its doc spells it out, so
// that the format is pinned, and checks that it sees a change of any row.
func TestDigest_Encoding(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	empty, err := materialize.Digest(ctx, db.ReadDB())
	require.NoError(t, err)
	sum := blake3.Sum256([]byte("stemedb/resolved-digest/v1\x00"))
	require.Equal(t, hex.EncodeToString(sum[:]), empty)

	in := newIngester(t, db)
	in.apply(t, newWorld(15, 40).records(120))
	m := newMaterializer(t, db, materialize.Options{}, refLenses(t))
	require.NoError(t, m.Backfill(ctx, "Latest", "All"))
	rows := resolvedRows(t, db) // sorted by lens, subject, predicate, rank

	h := blake3.New()
	h.WriteString("stemedb/resolved-digest/v1\x00")
	str := func(s string) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		h.WriteString(s)
	}
	for _, r := range rows {
		str(r.Lens)
		str(r.Subject)
		str(r.Predicate)
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(r.Rank)))
		raw, err := hex.DecodeString(r.Hash)
		require.NoError(t, err)
		h.Write(raw)
	}
	got, err := materialize.Digest(ctx, db.ReadDB())
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(h.Sum(nil)), got)

	// Another lens set gives another digest.
	require.NoError(t, m.RemoveLens(ctx, "Latest"))
	other, err := materialize.Digest(ctx, db.ReadDB())
	require.NoError(t, err)
	require.NotEqual(t, got, other)
}
