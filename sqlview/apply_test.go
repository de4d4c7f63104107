package sqlview_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// TestApply_PendingActs checks that acts waiting for their assertion survive a restart
// (a new Applier) and a rolled-back adoption.
func TestApply_PendingActs(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	x := number("s", "p", 1, 0.5)
	end := apply(t, db, newApplier(t, db), 0, vote(x, "bob", 1, 5), retract(x, "carol", 9))
	require.Len(t, dump(t, db, `SELECT * FROM pending_acts`), 2)

	// A new Applier (after a restart) knows that x has acts waiting. Its first
	// adoption rolls back: the acts must still be waiting.
	ap := newApplier(t, db)
	errBoom := errors.New("boom")
	err := db.Write(ctx, func(tx *sqlview.Tx) error {
		b := ap.Begin(tx, end)
		rec := signed(x, 10, "carol", "dave")
		if err := b.Apply(ctx, end+1, &rec, nil); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	require.Len(t, dump(t, db, `SELECT * FROM pending_acts`), 2)

	apply(t, db, ap, end, signed(x, 8, "carol", "dave"))
	a, err := db.GetAssertion(ctx, x.Hash())
	require.NoError(t, err)
	require.Equal(t, uint32(1), a.Up, "the early vote counts")
	require.Len(t, a.Signatures, 1, "carol's early retraction (9) beats her sign (8)")
	require.Equal(t, agent("dave"), a.Signatures[0].Agent)
	require.Empty(t, dump(t, db, `SELECT * FROM pending_acts`))
}

// TestApply_Reassert checks idempotency and the latest-act rule on an assertion written
// again, including one that comes back after being retracted.
func TestApply_Reassert(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	x := number("s", "p", 1, 0.5)
	end := apply(t, db, ap, 0, signed(x, 100, "alice"), signed(x, 100, "alice"))
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), st.Assertions, "the same claim twice is one assertion")

	end = apply(t, db, ap, end, retract(x, "alice", 150))
	a, err := db.GetAssertion(ctx, x.Hash())
	require.NoError(t, err)
	require.True(t, a.Retracted)
	require.Equal(t, uint64(1), a.Offset, "offset stays that of the first write")

	apply(t, db, ap, end, signed(x, 200, "alice"))
	a, err = db.GetAssertion(ctx, x.Hash())
	require.NoError(t, err)
	require.False(t, a.Retracted, "a newer sign brings it back")
	require.Equal(t, []sqlview.Signature{{Agent: agent("alice"), Timestamp: 200,
		Sig: sig(key("alice"), assertion.AssertMessage(x.Hash(), 200))}}, a.Signatures)
}
