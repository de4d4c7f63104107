package sqlview_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

func hexOf(s assertion.Sig) string { return hex.EncodeToString(s[:]) }

func newApplier(t testing.TB, db *sqlview.DB) *sqlview.Applier {
	t.Helper()
	ap, err := sqlview.NewApplier(context.Background(), db)
	require.NoError(t, err)
	return ap
}

// TestObjects_RoundTrip stores every object type and reads it back: the SQL value of
// API.md §6 and the same value bytes (what lenses group by).
func TestObjects_RoundTrip(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	tm := time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	objects := []struct {
		obj     assertion.Object
		sqlType string
		sqlVal  any
	}{
		{assertion.Object{Type: assertion.TypeString, Text: "héllo \"x\""}, "text", "héllo \"x\""},
		{assertion.Object{Type: assertion.TypeNumber, Number: 96.7}, "real", 96.7},
		{assertion.Object{Type: assertion.TypeNumber, Number: 3}, "real", 3.0},
		{assertion.Object{Type: assertion.TypeBoolean, Bool: true}, "integer", int64(1)},
		{assertion.Object{Type: assertion.TypeBoolean}, "integer", int64(0)},
		{assertion.Object{Type: assertion.TypeEntity, Text: "SpaceX"}, "text", "SpaceX"},
		{assertion.Object{Type: assertion.TypeTime, UnixNano: tm.UnixNano()}, "text", "2024-01-02T03:04:05.5Z"},
		{assertion.Object{Type: assertion.TypeTime, UnixNano: -1}, "text", "1969-12-31T23:59:59.999999999Z"},
		{assertion.Object{Type: assertion.TypeJSON, Text: `{"a":[1,"x"],"b":true}`}, "text", `{"a":[1,"x"],"b":true}`},
	}
	ap := newApplier(t, db)
	var recs []assertion.Record
	for i, o := range objects {
		c := assertion.Claim{Subject: "s", Predicate: fmt.Sprint("p", i), Object: o.obj, Confidence: 0.5}
		if i%2 == 0 {
			c.Source = assertion.Hash{1, 2, 3}
		}
		recs = append(recs, signed(c, 100, "alice"))
	}
	apply(t, db, ap, 0, recs...)
	for i, o := range objects {
		c := recs[i].Assertions[0].Claim
		h := c.Hash()
		row := dump(t, db, `SELECT object_type, typeof(object_value), object_value, source_hash FROM assertions WHERE hash = ?`, h.String())
		require.Len(t, row, 1)
		require.Equal(t, o.obj.TypeName(), row[0][0])
		require.Equal(t, o.sqlType, row[0][1], "%v", o.obj)
		require.Equal(t, o.sqlVal, row[0][2])
		if i%2 == 0 {
			require.Equal(t, c.Source.String(), row[0][3])
		} else {
			require.Nil(t, row[0][3], "an absent source is NULL")
		}

		a, err := db.GetAssertion(ctx, h)
		require.NoError(t, err)
		require.True(t, o.obj.Equal(a.Object), "%v != %v", o.obj, a.Object)
		require.Equal(t, c.Source, a.Source)

		id, ok, err := sqlview.FindGroup(ctx, db.ReadDB(), "s", c.Predicate)
		require.NoError(t, err)
		require.True(t, ok)
		gs, err := sqlview.LoadGroups(ctx, db.ReadDB(), []int64{id})
		require.NoError(t, err)
		require.Len(t, gs, 1)
		require.Equal(t, o.obj.AppendValueBytes(nil), gs[0].Candidates[0].Object)
	}
}

func TestGetAssertion_JSON(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	c := number("Tesla_Inc", "has_revenue", 96.7, 0.95)
	end := apply(t, db, ap, 0,
		signed(c, 1764000000, "alice"),
		vote(c, "bob", 1, 5), vote(c, "carol", -1, 5), vote(c, "dave", 1, 5))
	a, err := db.GetAssertion(ctx, c.Hash())
	require.NoError(t, err)
	require.Equal(t, uint64(end-3), a.Offset, "offset is the end of the record that first wrote it")

	var got map[string]any
	require.NoError(t, json.Unmarshal(a.AppendJSON(nil), &got))
	al := agent("alice")
	want := map[string]any{
		"hash": c.Hash().String(), "subject": "Tesla_Inc", "predicate": "has_revenue",
		"object": map[string]any{"type": "Number", "value": 96.7}, "confidence": 0.95,
		"source_hash": nil,
		"signatures": []any{map[string]any{
			"agent_id":  al.String(),
			"signature": hexOf(sig(key("alice"), assertion.AssertMessage(c.Hash(), 1764000000))),
			"timestamp": 1764000000.0}},
		"votes":     map[string]any{"up": 2.0, "down": 1.0},
		"retracted": false, "offset": float64(a.Offset),
	}
	require.Equal(t, want, got)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	require.JSONEq(t, string(a.AppendJSON(nil)), string(b))

	// Retracted: no signatures, still found.
	apply(t, db, ap, end, retract(c, "alice", 1764000001))
	a, err = db.GetAssertion(ctx, c.Hash())
	require.NoError(t, err)
	require.True(t, a.Retracted)
	require.Empty(t, a.Signatures)
	require.Contains(t, string(a.AppendJSON(nil)), `"signatures":[]`)

	_, err = db.GetAssertion(ctx, assertion.Hash{9})
	require.ErrorIs(t, err, sqlview.ErrNotFound)
}

func TestDirty(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	x := number("s", "p", 1, 0.5)
	y := number("s", "q", 1, 0.5)
	dirty := func() []string {
		var out []string
		for _, r := range dump(t, db, `SELECT g.subject || '/' || g.predicate FROM dirty_groups d
			JOIN claim_groups g ON g.id = d.group_id ORDER BY 1`) {
			out = append(out, r[0].(string))
		}
		return out
	}
	clear := func() {
		require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
			ds, err := sqlview.DirtyGroups(ctx, tx, 100)
			if err != nil {
				return err
			}
			return sqlview.ClearDirty(ctx, tx, ds)
		}))
	}

	end := apply(t, db, ap, 0, signed(x, 100, "alice"), signed(y, 100, "alice"))
	require.Equal(t, []string{"s/p", "s/q"}, dirty())
	clear()
	require.Empty(t, dirty())

	end = apply(t, db, ap, end, signed(x, 100, "alice"))
	require.Empty(t, dirty(), "a write that changes nothing dirties nothing")
	end = apply(t, db, ap, end, vote(y, "bob", 1, 5))
	require.Equal(t, []string{"s/q"}, dirty(), "a vote dirties its assertion's group")
	clear()
	end = apply(t, db, ap, end, retract(x, "alice", 200))
	require.Equal(t, []string{"s/p"}, dirty(), "so does a retraction")
	clear()
	apply(t, db, ap, end, vote(number("s", "r", 1, 0.5), "bob", 1, 5))
	require.Empty(t, dirty(), "a vote on an unknown assertion waits, dirtying nothing")
}

// TestCleanThrough checks the materialized-offset protocol: a group read dirty and
// changed again before it is cleared stays dirty, and holds the offset back.
func TestCleanThrough(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	x := number("s", "p", 1, 0.5)
	e1 := apply(t, db, ap, 0, signed(x, 100, "alice"))
	seen, err := sqlview.DirtyGroups(ctx, db.ReadDB(), 10)
	require.NoError(t, err)
	require.Equal(t, []sqlview.DirtyGroup{{ID: 1, Since: 0, Offset: e1}}, seen)

	e2 := apply(t, db, ap, e1, vote(x, "bob", 1, 5)) // changes while "materializing"
	var through uint64
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		if err := sqlview.ClearDirty(ctx, tx, seen); err != nil {
			return err
		}
		through, err = sqlview.CleanThrough(ctx, tx)
		if err != nil {
			return err
		}
		return sqlview.SetMaterializedOffset(ctx, tx, through)
	}))
	require.Equal(t, uint64(0), through, "the group is still dirty since offset 0")
	seen, err = sqlview.DirtyGroups(ctx, db.ReadDB(), 10)
	require.NoError(t, err)
	require.Equal(t, e2, seen[0].Offset)

	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		if err := sqlview.ClearDirty(ctx, tx, seen); err != nil {
			return err
		}
		through, err = sqlview.CleanThrough(ctx, tx)
		return err
	}))
	require.Equal(t, e2, through, "nothing dirty: clean through the ingested offset")
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Zero(t, st.DirtyGroups)
}

func TestLoadGroups(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	x := number("s", "p", 1, 0.5)
	y := number("s", "p", 2, 0.7)
	z := number("s", "p", 3, 0.7)
	w := number("t", "p", 1, 0.5)
	apply(t, db, ap, 0,
		signed(x, 100, "alice", "bob"), signed(y, 200, "carol"), signed(z, 100, "dave"),
		retract(z, "dave", 101), signed(w, 100, "alice"),
		vote(x, "eve", 1, 1), vote(x, "frank", -1, 1), vote(x, "gina", 1, 1), vote(y, "eve", -1, 1))
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE agent_rows SET trust = 0.25 WHERE agent_id = ?`, agent("bob").String())
		return err
	}))
	gp, _, err := sqlview.FindGroup(ctx, db.ReadDB(), "s", "p")
	require.NoError(t, err)
	gt, _, err := sqlview.FindGroup(ctx, db.ReadDB(), "t", "p")
	require.NoError(t, err)

	gs, err := sqlview.LoadGroups(ctx, db.ReadDB(), []int64{gt, 999, gp})
	require.NoError(t, err)
	require.Len(t, gs, 2, "unknown ids are left out")
	require.Equal(t, "t", gs[0].Subject, "groups come in the order asked")
	g := gs[1]
	require.Equal(t, "s", g.Subject)
	require.Equal(t, "p", g.Predicate)
	require.Len(t, g.Candidates, 2, "the retracted one is not a candidate")
	cx, cy := g.Candidates[0], g.Candidates[1]
	require.Equal(t, x.Hash(), cx.Hash)
	require.Equal(t, y.Hash(), cy.Hash)
	require.Equal(t, uint32(2), cx.Up)
	require.Equal(t, uint32(1), cx.Down)
	require.Equal(t, uint32(0), cy.Up)
	require.Equal(t, uint32(1), cy.Down)
	require.Equal(t, 0.7, cy.Confidence)
	trust := map[assertion.AgentID]float64{}
	for _, s := range cx.Signers {
		require.Equal(t, uint64(100), s.Timestamp)
		trust[s.Agent] = s.Trust
	}
	require.Equal(t, map[assertion.AgentID]float64{agent("alice"): 1, agent("bob"): 0.25}, trust)
	require.Equal(t, []sqlview.Signer{{Agent: agent("carol"), Timestamp: 200, Trust: 1}}, cy.Signers)
}

func TestReplaceResolved(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	cs := []assertion.Claim{number("s", "p", 1, 0.5), number("s", "p", 2, 0.5), number("s", "p", 3, 0.5)}
	apply(t, db, ap, 0, signed(cs[0], 1, "a"), signed(cs[1], 1, "a"), signed(cs[2], 1, "a"))
	id, _, err := sqlview.FindGroup(ctx, db.ReadDB(), "s", "p")
	require.NoError(t, err)
	gs, err := sqlview.LoadGroups(ctx, db.ReadDB(), []int64{id})
	require.NoError(t, err)
	g := &gs[0]

	replace := func(lens string, winners ...assertion.Claim) bool {
		hs := make([]assertion.Hash, len(winners))
		for i, w := range winners {
			hs[i] = w.Hash()
		}
		var changed bool
		require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
			var err error
			changed, err = sqlview.ReplaceResolved(ctx, tx, lens, g, hs)
			return err
		}))
		return changed
	}
	resolved := func(lens string) []string {
		var out []string
		for _, r := range dump(t, db, `SELECT rank, assertion_hash FROM resolved WHERE lens = ? ORDER BY rank`, lens) {
			out = append(out, fmt.Sprintf("%d:%s", r[0], r[1].(string)[:8]))
		}
		return out
	}
	short := func(cs ...assertion.Claim) []string {
		var out []string
		for i, c := range cs {
			out = append(out, fmt.Sprintf("%d:%s", i+1, c.Hash().String()[:8]))
		}
		return out
	}

	require.True(t, replace("All", cs[0], cs[1], cs[2]))
	require.Equal(t, short(cs[0], cs[1], cs[2]), resolved("All"))
	require.False(t, replace("All", cs[0], cs[1], cs[2]), "same winners: no write")
	require.True(t, replace("All", cs[2], cs[1]))
	require.Equal(t, short(cs[2], cs[1]), resolved("All"))
	require.True(t, replace("Latest", cs[1]))
	require.Equal(t, short(cs[1]), resolved("Latest"))
	require.True(t, replace("Latest"))
	require.Empty(t, resolved("Latest"), "no winner: no row")
	require.Equal(t, short(cs[2], cs[1]), resolved("All"), "other lenses untouched")

	var err2 error
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		_, err2 = sqlview.ReplaceResolved(ctx, tx, "All", g, []assertion.Hash{{7}})
		return nil
	}))
	require.ErrorIs(t, err2, sqlview.ErrNotCandidate)

	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error { return sqlview.DeleteResolved(ctx, tx, "All") }))
	require.Empty(t, resolved("All"))
}

// TestQueryWinners pages through winners by subject, by predicate and by both, and
// checks the order, total_count and cursors against a plain SQL reading of `resolved`.
func TestQueryWinners(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	ap := newApplier(t, db)
	var recs []assertion.Record
	subjects := []string{"b", "a", "c", "a\x00z", "é"}
	predicates := []string{"q", "p", "r"}
	for _, s := range subjects {
		for _, p := range predicates {
			for v := range 3 {
				recs = append(recs, signed(number(s, p, float64(v), 0.5), 1, "alice"))
			}
		}
	}
	end := apply(t, db, ap, 0, recs...)
	// "All" keeps every candidate, in reverse value order; "One" keeps the first.
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		ids, err := sqlview.ListGroups(ctx, tx, 0, 1000)
		if err != nil {
			return err
		}
		gs, err := sqlview.LoadGroups(ctx, tx, ids)
		if err != nil {
			return err
		}
		for i := range gs {
			g := &gs[i]
			var all []assertion.Hash
			for j := len(g.Candidates) - 1; j >= 0; j-- {
				all = append(all, g.Candidates[j].Hash)
			}
			if _, err := sqlview.ReplaceResolved(ctx, tx, "All", g, all); err != nil {
				return err
			}
			if _, err := sqlview.ReplaceResolved(ctx, tx, "One", g, all[:1]); err != nil {
				return err
			}
		}
		return sqlview.SetMaterializedOffset(ctx, tx, end)
	}))

	for _, tc := range []struct {
		subject, predicate, lens string
	}{
		{"a", "", "All"}, {"", "p", "All"}, {"a", "p", "All"}, {"é", "", "One"},
		{"", "r", "One"}, {"nope", "", "All"}, {"a", "p", "Nope"},
	} {
		t.Run(fmt.Sprintf("%q/%q/%s", tc.subject, tc.predicate, tc.lens), func(t *testing.T) {
			var conds []string
			var args []any
			if tc.subject != "" {
				conds, args = append(conds, "subject = ?"), append(args, tc.subject)
			}
			if tc.predicate != "" {
				conds, args = append(conds, "predicate = ?"), append(args, tc.predicate)
			}
			var want []string
			for _, r := range dump(t, db, `SELECT assertion_hash FROM resolved WHERE lens = ? AND `+
				strings.Join(conds, " AND ")+` ORDER BY subject, predicate, rank`, append([]any{tc.lens}, args...)...) {
				want = append(want, r[0].(string))
			}
			for _, limit := range []int{1, 2, 4, 100} {
				var got []string
				var cur *sqlview.Cursor
				for pages := 0; ; pages++ {
					require.Less(t, pages, 100)
					page, err := db.QueryWinners(ctx, sqlview.QueryParams{
						Subject: tc.subject, Predicate: tc.predicate, Lens: tc.lens, Limit: limit, After: cur})
					require.NoError(t, err)
					require.Equal(t, int64(len(want)), page.TotalCount)
					require.Equal(t, end, page.MaterializedOffset)
					require.LessOrEqual(t, len(page.Assertions), limit)
					for _, a := range page.Assertions {
						got = append(got, a.Hash.String())
						require.Len(t, a.Signatures, 1)
					}
					if !page.HasMore {
						require.Nil(t, page.Next)
						break
					}
					// Through the opaque form, as clients see it.
					c, err := sqlview.DecodeCursor(page.Next.Encode())
					require.NoError(t, err)
					cur = &c
				}
				require.Equal(t, want, got, "limit %d", limit)
			}
		})
	}

	_, err := db.QueryWinners(ctx, sqlview.QueryParams{Subject: "a", Lens: "All", Limit: 1,
		After: &sqlview.Cursor{Subject: "b"}})
	require.ErrorIs(t, err, sqlview.ErrBadCursor)
	for _, bad := range []string{"", "!!", "AA", sqlview.Cursor{Subject: "a"}.Encode() + "A"} {
		_, err := sqlview.DecodeCursor(bad)
		require.ErrorIs(t, err, sqlview.ErrBadCursor, bad)
	}
}

// TestQueryPlans checks that the hot reads use indexes: no full scan of a base table.
func TestQueryPlans(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	for _, q := range []string{
		`SELECT * FROM assertions WHERE hash = 'x'`,
		`SELECT * FROM assertions WHERE subject = 'x'`,
		`SELECT * FROM assertions WHERE subject = 'x' AND predicate = 'y'`,
		`SELECT * FROM assertions WHERE predicate = 'y'`,
		`SELECT * FROM signatures WHERE assertion_hash = 'x'`,
		`SELECT * FROM signatures WHERE agent_id = 'x'`,
		`SELECT * FROM votes WHERE assertion_hash = 'x'`,
		`SELECT * FROM resolved WHERE lens = 'All' AND subject = 'x'`,
		`SELECT * FROM resolved WHERE lens = 'All' AND predicate = 'x'`,
	} {
		var plan []string
		for _, r := range dump(t, db, `EXPLAIN QUERY PLAN `+q) {
			plan = append(plan, fmt.Sprint(r[3]))
		}
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "agent_rows") &&
				!strings.Contains(step, "lens_names") {
				t.Errorf("%s\nscans a table: %s", q, strings.Join(plan, "; "))
			}
		}
	}
}
