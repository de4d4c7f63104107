package sqlview_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
	"github.com/stemedb/stemedb/sqlview/sqlviewtest"
)

func openDB(t testing.TB, opts sqlview.Options) *sqlview.DB {
	t.Helper()
	db, err := sqlview.Open(context.Background(), filepath.Join(t.TempDir(), "stemedb.sqlite"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// key returns a deterministic agent key for name.
func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("agent/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func agent(name string) assertion.AgentID { return assertion.AgentOf(key(name)) }

func number(subject, predicate string, v, conf float64) assertion.Claim {
	return assertion.Claim{Subject: subject, Predicate: predicate,
		Object: assertion.Object{Type: assertion.TypeNumber, Number: v}, Confidence: conf}
}

// signed returns an assert record of c signed by the named agents at ts.
func signed(c assertion.Claim, ts uint64, agents ...string) assertion.Record {
	a := assertion.Assertion{Claim: c}
	for _, n := range agents {
		a.Sign(key(n), ts)
	}
	return assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{a}}
}

func vote(c assertion.Claim, who string, v int8, ts uint64) assertion.Record {
	return assertion.Record{Kind: assertion.KindVote, Vote: assertion.SignVote(key(who), c.Hash(), v, ts)}
}

func retract(c assertion.Claim, who string, ts uint64) assertion.Record {
	return assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.SignRetraction(key(who), c.Hash(), ts)}
}

func sig(k ed25519.PrivateKey, msg []byte) (s assertion.Sig) {
	copy(s[:], ed25519.Sign(k, msg))
	return s
}

// apply applies recs in one transaction, the i-th record ending at offset base+i+1.
func apply(t testing.TB, db *sqlview.DB, ap *sqlview.Applier, base uint64, recs ...assertion.Record) uint64 {
	t.Helper()
	ctx := context.Background()
	end := base
	err := db.Write(ctx, func(tx *sqlview.Tx) error {
		b := ap.Begin(tx, base)
		for i := range recs {
			end++
			if err := b.Apply(ctx, end, &recs[i], nil); err != nil {
				return err
			}
		}
		_, err := b.Finish(ctx, end)
		return err
	})
	require.NoError(t, err)
	return end
}

// dump returns the rows of a query as strings, for comparisons.
func dump(t testing.TB, db *sqlview.DB, query string, args ...any) [][]any {
	return sqlviewtest.Rows(t, db.ReadDB(), query, args...)
}
