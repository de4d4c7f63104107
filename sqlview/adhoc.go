package sqlview

// On-the-fly reads: what a lens without complete rows in `resolved` needs to answer a
// query (a lens uploaded as not materialized, or one whose backfill has not finished),
// and what the dry run of an uploaded module (POST /v1/lenses/test) reads. sqlview does
// not know lenses: the caller passes a ResolveFunc.

import (
	"context"
	"errors"
	"fmt"
)

// ResolveFunc returns, for each group, its winners as indices into its Candidates, in the
// lens's rank order (possibly none).
type ResolveFunc func(ctx context.Context, groups []Group) ([][]int, error)

// OnTheFlyChunk is the number of groups QueryOnTheFly loads and resolves at a time: the
// materializer's chunk size, for the same reasons (one lens call amortized over many
// groups, bounded memory).
const OnTheFlyChunk = 512

// groupRef is a group's id and key, listed before its candidates are loaded.
type groupRef struct {
	id                 int64
	subject, predicate string
}

// pick is one winner of an on-the-fly page, before its assertion row is read.
type pick struct {
	assertionID        int64
	subject, predicate string
	rank               int64
}

// QueryOnTheFly answers exactly as QueryWinners would if `resolved` held resolve's
// winners for every group: the same order (subject, then predicate, bytewise, then the
// lens's rank), the same cursors (a page of one may be continued by the other) and the
// same total_count. It reads one snapshot of the read pool, walks every group matching
// p in the answer's order, OnTheFlyChunk groups per resolve call, and reads the
// assertions of the page's winners.
//
// Page.MaterializedOffset holds the snapshot's ingested offset: the answer is computed
// from the base tables, which reflect every log record up to it.
//
// The cost is one lens call per chunk of matching groups on every page (total_count
// needs them all): fine for a subject, heavy for a broad predicate. That is what
// materializing a lens is for.
func (db *DB) QueryOnTheFly(ctx context.Context, p QueryParams, resolve ResolveFunc) (Page, error) {
	if p.Subject == "" && p.Predicate == "" {
		return Page{}, errors.New("query on the fly: subject or predicate is required")
	}
	if p.Limit < 1 {
		return Page{}, fmt.Errorf("query on the fly: limit %d is below 1", p.Limit)
	}
	after := Cursor{}
	if p.After != nil {
		after = *p.After
		if (p.Subject != "" && after.Subject != p.Subject) ||
			(p.Predicate != "" && after.Predicate != p.Predicate) {
			return Page{}, fmt.Errorf("query on the fly: cursor is for another query: %w", ErrBadCursor)
		}
	}
	// past reports whether the winner at (subject, predicate, rank) comes after the
	// cursor, in the order of this query's kind (QueryWinners' keyset conditions).
	past := func(subject, predicate string, rank int64) bool {
		switch {
		case p.Subject != "" && p.Predicate != "":
			return rank > after.Rank
		case p.Subject != "":
			return predicate > after.Predicate || predicate == after.Predicate && rank > after.Rank
		}
		return subject > after.Subject || subject == after.Subject && rank > after.Rank
	}

	tx, err := db.BeginRead(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("query on the fly: %w", err)
	}
	defer tx.Rollback()

	var page Page
	var ingested int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM state WHERE key = 'ingested_offset'`).Scan(&ingested); err != nil {
		return Page{}, fmt.Errorf("query on the fly: %w", err)
	}
	page.MaterializedOffset = uint64(ingested)

	refs, err := matchingGroups(ctx, tx, p.Subject, p.Predicate, -1)
	if err != nil {
		return Page{}, fmt.Errorf("query on the fly: %w", err)
	}
	var picks []pick // the page's winners, plus one to tell whether more follow
	for start := 0; start < len(refs); start += OnTheFlyChunk {
		chunk := refs[start:min(start+OnTheFlyChunk, len(refs))]
		groups, winners, err := loadAndResolve(ctx, tx, chunk, resolve)
		if err != nil {
			return Page{}, fmt.Errorf("query on the fly: %w", err)
		}
		for gi := range groups {
			g := &groups[gi]
			for r, ci := range winners[gi] {
				page.TotalCount++
				rank := int64(r + 1)
				if len(picks) <= p.Limit && past(g.Subject, g.Predicate, rank) {
					picks = append(picks, pick{assertionID: g.Candidates[ci].ID, subject: g.Subject, predicate: g.Predicate, rank: rank})
				}
			}
		}
	}
	if len(picks) > p.Limit {
		picks = picks[:p.Limit]
		last := picks[p.Limit-1]
		page.HasMore = true
		page.Next = &Cursor{Subject: last.subject, Predicate: last.predicate, Rank: last.rank}
	}
	ids := make([]int64, len(picks))
	for i, pk := range picks {
		ids[i] = pk.assertionID
	}
	if page.Assertions, err = loadAssertions(ctx, tx, ids); err != nil {
		return Page{}, fmt.Errorf("query on the fly: %w", err)
	}
	return page, nil
}

// LoadMatchingGroups returns the first limit groups matching subject and/or predicate
// ("" matches any; at least one must be set) in the answer's order, with their
// candidates, and whether more groups match: the stored sample of a dry run.
func (db *DB) LoadMatchingGroups(ctx context.Context, subject, predicate string, limit int) ([]Group, bool, error) {
	if subject == "" && predicate == "" {
		return nil, false, errors.New("load matching groups: subject or predicate is required")
	}
	if limit < 1 {
		return nil, false, fmt.Errorf("load matching groups: limit %d is below 1", limit)
	}
	tx, err := db.BeginRead(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("load matching groups: %w", err)
	}
	defer tx.Rollback()
	refs, err := matchingGroups(ctx, tx, subject, predicate, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("load matching groups: %w", err)
	}
	more := len(refs) > limit
	if more {
		refs = refs[:limit]
	}
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r.id
	}
	groups, err := LoadGroups(ctx, tx, ids)
	if err != nil {
		return nil, false, fmt.Errorf("load matching groups: %w", err)
	}
	return groups, more, nil
}

// LoadAssertions returns the assertions with the given row ids (Candidate.ID), in that
// order, with their current signatures and votes, read in one snapshot.
func (db *DB) LoadAssertions(ctx context.Context, ids []int64) ([]Assertion, error) {
	tx, err := db.BeginRead(ctx)
	if err != nil {
		return nil, fmt.Errorf("load assertions: %w", err)
	}
	defer tx.Rollback()
	as, err := loadAssertions(ctx, tx, ids)
	if err != nil {
		return nil, fmt.Errorf("load assertions: %w", err)
	}
	return as, nil
}

// matchingGroups lists the groups matching subject and/or predicate in the answer's
// order: by predicate for a subject, by subject for a predicate. limit < 0 lists all.
func matchingGroups(ctx context.Context, q Querier, subject, predicate string, limit int) ([]groupRef, error) {
	var query string
	var args []any
	switch {
	case subject != "" && predicate != "":
		query, args = `SELECT id, subject, predicate FROM claim_groups WHERE subject = ?1 AND predicate = ?2 LIMIT ?3`,
			[]any{subject, predicate, limit}
	case subject != "":
		query, args = `SELECT id, subject, predicate FROM claim_groups WHERE subject = ?1 ORDER BY predicate LIMIT ?2`,
			[]any{subject, limit}
	default:
		query, args = `SELECT id, subject, predicate FROM claim_groups WHERE predicate = ?1 ORDER BY subject LIMIT ?2`,
			[]any{predicate, limit}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("matching groups: %w", err)
	}
	defer rows.Close()
	var refs []groupRef
	for rows.Next() {
		var r groupRef
		if err := rows.Scan(&r.id, &r.subject, &r.predicate); err != nil {
			return nil, fmt.Errorf("matching groups: %w", err)
		}
		refs = append(refs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("matching groups: %w", err)
	}
	return refs, nil
}

// loadAndResolve loads refs' groups and resolves those with candidates (a group whose
// every assertion is retracted has no winner; a lens need not be asked). The winners
// are checked, so that a resolver's bad answer is an error rather than a panic here.
func loadAndResolve(ctx context.Context, q Querier, refs []groupRef, resolve ResolveFunc) ([]Group, [][]int, error) {
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r.id
	}
	groups, err := LoadGroups(ctx, q, ids)
	if err != nil {
		return nil, nil, err
	}
	var asked []Group
	var at []int // asked[i] is groups[at[i]]
	for i := range groups {
		if len(groups[i].Candidates) > 0 {
			asked = append(asked, groups[i])
			at = append(at, i)
		}
	}
	winners := make([][]int, len(groups))
	if len(asked) == 0 {
		return groups, winners, nil
	}
	res, err := resolve(ctx, asked)
	if err != nil {
		return nil, nil, err
	}
	if len(res) != len(asked) {
		return nil, nil, fmt.Errorf("resolve: %d results for %d groups", len(res), len(asked))
	}
	for i, w := range res {
		n := len(asked[i].Candidates)
		for _, ci := range w {
			if ci < 0 || ci >= n {
				return nil, nil, fmt.Errorf("resolve: group %d: winner %d of %d candidates", i, ci, n)
			}
		}
		winners[at[i]] = w
	}
	return groups, winners, nil
}

// loadAssertions reads the assertions with the given row ids, in that order, and fills
// in their acts.
func loadAssertions(ctx context.Context, q Querier, ids []int64) ([]Assertion, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+assertionColumns+`
		FROM json_each(?1) AS j
		CROSS JOIN assertion_rows AS a ON a.id = j.value
		CROSS JOIN claim_groups AS g ON g.id = a.group_id`, jsonIntList(ids))
	if err != nil {
		return nil, fmt.Errorf("assertions: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]Assertion, len(ids))
	for rows.Next() {
		var a Assertion
		if err := scanAssertion(rows, &a); err != nil {
			return nil, fmt.Errorf("assertions: %w", err)
		}
		byID[a.id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("assertions: %w", err)
	}
	rows.Close()
	out := make([]Assertion, len(ids))
	ptrs := make([]*Assertion, len(ids))
	for i, id := range ids {
		a, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("assertion row %d: %w", id, ErrNotFound)
		}
		out[i] = a
		ptrs[i] = &out[i]
	}
	if err := fillActs(ctx, q, ptrs); err != nil {
		return nil, fmt.Errorf("assertions: %w", err)
	}
	return out, nil
}
