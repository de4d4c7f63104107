package materialize_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// TestReplaceResolvedMany_MatchesReplaceResolved: the batched write the materializer
// uses (sqlview/materializer_support.go) leaves the same rows and reports the same
// changes as one ReplaceResolved per group, through rounds of random winner lists that
// grow, shrink, reorder and empty.
func TestReplaceResolvedMany_MatchesReplaceResolved(t *testing.T) {
	ctx := context.Background()
	db, _ := openDB(t)
	in := newIngester(t, db)
	in.apply(t, newWorld(16, 60).records(300))
	tx, err := db.ReadDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	groups, err := sqlview.LoadGroups(ctx, tx, allGroupIDs(t, db))
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())

	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 8 {
		var gs []*sqlview.Group
		var winners [][]assertion.Hash
		for i := range groups {
			g := &groups[i]
			if rng.IntN(4) == 0 { // a group left out of this round keeps its rows
				continue
			}
			var w []assertion.Hash
			for _, j := range rng.Perm(len(g.Candidates))[:rng.IntN(len(g.Candidates)+1)] {
				w = append(w, g.Candidates[j].Hash)
			}
			gs = append(gs, g)
			winners = append(winners, w)
		}
		var want, got []bool
		err := db.Write(ctx, func(tx *sqlview.Tx) (err error) { // runs on the writer goroutine
			for i, g := range gs {
				c, err := sqlview.ReplaceResolved(ctx, tx, "One", g, winners[i])
				if err != nil {
					return err
				}
				want = append(want, c)
			}
			got, err = sqlview.ReplaceResolvedMany(ctx, tx, "Many", gs, winners)
			return err
		})
		require.NoError(t, err)
		require.Equal(t, want, got, "round %d", round)
		one, many := resolvedRows(t, db, "One"), resolvedRows(t, db, "Many")
		require.Equal(t, len(one), len(many))
		for i := range one {
			one[i].Lens, many[i].Lens = "", ""
		}
		require.Equal(t, one, many, "round %d", round)
	}

	// A winner that is not a candidate is refused, as by ReplaceResolved.
	err = db.Write(ctx, func(tx *sqlview.Tx) error {
		_, err := sqlview.ReplaceResolvedMany(ctx, tx, "Many", []*sqlview.Group{&groups[0]}, [][]assertion.Hash{{{1}}})
		return err
	})
	require.ErrorIs(t, err, sqlview.ErrNotCandidate)
}
