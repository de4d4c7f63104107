package sqlview_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// byHash is a rule with several winners per group: every candidate, smallest hash first.
func byHash(_ context.Context, groups []sqlview.Group) ([][]int, error) {
	out := make([][]int, len(groups))
	for gi, g := range groups {
		idx := make([]int, len(g.Candidates))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			return bytes.Compare(g.Candidates[a].Hash[:], g.Candidates[b].Hash[:])
		})
		out[gi] = idx
	}
	return out, nil
}

// TestQueryOnTheFly_SameAsMaterialized materializes a rule's winners into `resolved`
// and checks that computing them on the fly gives the same pages, cursors and counts,
// for every kind of filter and page size, cursors from one path continuing the other.
func TestQueryOnTheFly_SameAsMaterialized(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, sqlview.Options{})
	ap, err := sqlview.NewApplier(ctx, db)
	require.NoError(t, err)
	var recs []assertion.Record
	for s := range 7 {
		for _, p := range []string{"a", "b", "c"} {
			for v := range 1 + (s+len(p))%3 {
				recs = append(recs, signed(number(fmt.Sprintf("s%d", s), p, float64(v), 0.5), 1764000000, "alice"))
			}
		}
	}
	gone := number("s9", "a", 1, 1) // a group whose only assertion is retracted: no winner
	recs = append(recs, signed(gone, 1764000000, "bob"), retract(gone, "bob", 1764000001))
	apply(t, db, ap, 0, recs...)

	// Materialize byHash as lens "L", as the materializer would.
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		ids, err := sqlview.ListGroups(ctx, tx, 0, 1000)
		if err != nil {
			return err
		}
		groups, err := sqlview.LoadGroups(ctx, tx, ids)
		if err != nil {
			return err
		}
		winners, _ := byHash(ctx, groups)
		for gi := range groups {
			hashes := make([]assertion.Hash, len(winners[gi]))
			for i, ci := range winners[gi] {
				hashes[i] = groups[gi].Candidates[ci].Hash
			}
			if _, err := sqlview.ReplaceResolved(ctx, tx, "L", &groups[gi], hashes); err != nil {
				return err
			}
		}
		return nil
	}))

	type page struct {
		hashes []string
		total  int64
		next   *sqlview.Cursor
	}
	flatten := func(p sqlview.Page) page {
		out := page{total: p.TotalCount, next: p.Next}
		for _, a := range p.Assertions {
			out.hashes = append(out.hashes, a.Subject+"/"+a.Predicate+"/"+a.Hash.String())
		}
		return out
	}
	for _, f := range []struct{ subject, predicate string }{{"s3", ""}, {"", "a"}, {"s4", "b"}, {"s9", "a"}, {"nobody", ""}} {
		for _, limit := range []int{1, 2, 5, 100} {
			t.Run(fmt.Sprintf("%s/%s/%d", f.subject, f.predicate, limit), func(t *testing.T) {
				var cur *sqlview.Cursor
				for step := 0; ; step++ {
					q := sqlview.QueryParams{Subject: f.subject, Predicate: f.predicate, Lens: "L", Limit: limit, After: cur}
					mat, err := db.QueryWinners(ctx, q)
					require.NoError(t, err)
					fly, err := db.QueryOnTheFly(ctx, q, byHash)
					require.NoError(t, err)
					require.Equal(t, flatten(mat), flatten(fly), "page %d", step)
					require.Equal(t, mat.HasMore, fly.HasMore)
					for i := range mat.Assertions { // signatures and votes too
						require.Equal(t, mat.Assertions[i].AppendJSON(nil), fly.Assertions[i].AppendJSON(nil))
					}
					if !fly.HasMore {
						break
					}
					cur = fly.Next
					if step%2 == 1 {
						cur = mat.Next // either path's cursor continues the other
					}
				}
			})
		}
	}

	t.Run("refusals", func(t *testing.T) {
		_, err := db.QueryOnTheFly(ctx, sqlview.QueryParams{Lens: "L", Limit: 1}, byHash)
		require.Error(t, err)
		_, err = db.QueryOnTheFly(ctx, sqlview.QueryParams{Subject: "s1", Lens: "L", Limit: 1,
			After: &sqlview.Cursor{Subject: "s2"}}, byHash)
		require.ErrorIs(t, err, sqlview.ErrBadCursor)
		boom := errors.New("boom")
		_, err = db.QueryOnTheFly(ctx, sqlview.QueryParams{Subject: "s1", Lens: "L", Limit: 1},
			func(context.Context, []sqlview.Group) ([][]int, error) { return nil, boom })
		require.ErrorIs(t, err, boom)
		_, err = db.QueryOnTheFly(ctx, sqlview.QueryParams{Subject: "s1", Lens: "L", Limit: 1},
			func(_ context.Context, g []sqlview.Group) ([][]int, error) { return make([][]int, len(g)+1), nil })
		require.ErrorContains(t, err, "results for")
	})

	t.Run("matching groups", func(t *testing.T) {
		groups, more, err := db.LoadMatchingGroups(ctx, "", "a", 3)
		require.NoError(t, err)
		require.True(t, more)
		require.Len(t, groups, 3)
		for i, want := range []string{"s0", "s1", "s2"} {
			require.Equal(t, want, groups[i].Subject)
		}
		as, err := db.LoadAssertions(ctx, []int64{groups[0].Candidates[0].ID})
		require.NoError(t, err)
		require.Equal(t, groups[0].Candidates[0].Hash, as[0].Hash)
		require.Len(t, as[0].Signatures, 1)
	})
}
