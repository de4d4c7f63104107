package sqlview

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrBadCursor is returned by QueryWinners for a cursor that does not decode or that
// belongs to another query.
var ErrBadCursor = errors.New("sqlview: bad cursor")

// QueryParams selects winners for GET /v1/query (API.md §4).
type QueryParams struct {
	// Subject and Predicate filter the groups; "" means no filter (both are 1..1024
	// bytes when set). At least one must be set.
	Subject, Predicate string
	// Lens is the lens's canonical name. A lens with no materialized rows matches
	// nothing.
	Lens string
	// Limit is the page size, at least 1.
	Limit int
	// After continues from a previous page's Next; nil starts at the beginning.
	After *Cursor
}

// Cursor is a position in the winners' order (subject, predicate, rank): the last row
// of a page.
type Cursor struct {
	Subject, Predicate string
	Rank               int64
}

// Page is one page of winners.
type Page struct {
	Assertions []Assertion // in (subject, predicate, rank) order
	TotalCount int64       // all winners that match, over all pages
	HasMore    bool
	Next       *Cursor // the position to continue from; nil when !HasMore
	// MaterializedOffset is the offset `resolved` reflected when the page was read.
	MaterializedOffset uint64
}

// QueryWinners returns one page of the winners that p.Lens chose for the groups
// matching p, each as a full Assertion, read in one snapshot of the read pool. The
// count, the page and the materialized offset are consistent with one another.
func (db *DB) QueryWinners(ctx context.Context, p QueryParams) (Page, error) {
	if p.Subject == "" && p.Predicate == "" {
		return Page{}, errors.New("query winners: subject or predicate is required")
	}
	if p.Limit < 1 {
		return Page{}, fmt.Errorf("query winners: limit %d is below 1", p.Limit)
	}
	after := Cursor{}
	if p.After != nil {
		after = *p.After
		if (p.Subject != "" && after.Subject != p.Subject) ||
			(p.Predicate != "" && after.Predicate != p.Predicate) {
			return Page{}, fmt.Errorf("query winners: cursor is for another query: %w", ErrBadCursor)
		}
	}

	tx, err := db.BeginRead(ctx)
	if err != nil {
		return Page{}, fmt.Errorf("query winners: %w", err)
	}
	defer tx.Rollback()

	var page Page
	var lens sql.NullInt64
	var mat int64
	if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT id FROM lens_names WHERE name = ?1),
			(SELECT value FROM state WHERE key = 'materialized_offset')`, p.Lens).Scan(&lens, &mat); err != nil {
		return Page{}, fmt.Errorf("query winners: %w", err)
	}
	page.MaterializedOffset = uint64(mat)
	if !lens.Valid {
		return page, nil
	}

	// By subject: the (subject, predicate) index gives the groups in the answer's
	// order, and each group's resolved rows come in rank order (their primary key), so
	// a page costs its own rows. By predicate alone: the (predicate, id) index is in
	// arrival order (it is cheap for ingest: new groups append), so the page is the
	// first rows of a sort of the predicate's groups, as the count already visits them
	// all. The keyset condition is a range on the index plus a residual test.
	var where, order string
	var args []any
	switch {
	case p.Subject != "" && p.Predicate != "":
		where = `g.subject = ?2 AND g.predicate = ?3 AND r.rank > ?4`
		order = `rank`
		args = []any{lens.Int64, p.Subject, p.Predicate, after.Rank}
	case p.Subject != "":
		where = `g.subject = ?2 AND g.predicate >= ?3 AND (g.predicate > ?3 OR r.rank > ?4)`
		order = `predicate, rank`
		args = []any{lens.Int64, p.Subject, after.Predicate, after.Rank}
	default:
		where = `g.predicate = ?2 AND g.subject >= ?3 AND (g.subject > ?3 OR r.rank > ?4)`
		order = `subject, rank`
		args = []any{lens.Int64, p.Predicate, after.Subject, after.Rank}
	}
	// CROSS JOIN pins the join order (SQLite never reorders it), whatever statistics
	// PRAGMA optimize gathers.
	from := `FROM claim_groups AS g
		CROSS JOIN resolved_rows AS r ON r.lens_id = ?1 AND r.group_id = g.id`

	// The count ignores the cursor: it is over all pages.
	countWhere, countArgs := `g.predicate = ?2`, []any{lens.Int64, p.Predicate}
	switch {
	case p.Subject != "" && p.Predicate != "":
		countWhere, countArgs = `g.subject = ?2 AND g.predicate = ?3`, []any{lens.Int64, p.Subject, p.Predicate}
	case p.Subject != "":
		countWhere, countArgs = `g.subject = ?2`, []any{lens.Int64, p.Subject}
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) `+from+` WHERE `+countWhere, countArgs...).
		Scan(&page.TotalCount); err != nil {
		return Page{}, fmt.Errorf("query winners: count: %w", err)
	}

	// The page's winners first, then their assertion rows: a sort (by predicate) must
	// not drag every candidate row's assertion along. A subquery with LIMIT under a
	// join is never flattened into it.
	rows, err := tx.QueryContext(ctx, `SELECT p.rank, a.id, a.hash, p.subject, p.predicate,
			a.object_type, a.object_value, a.confidence, a.source_hash, a.retracted, a."offset"
		FROM (SELECT g.subject, g.predicate, r.rank, r.assertion_id `+from+`
			WHERE `+where+` ORDER BY `+order+` LIMIT ?5) AS p
		CROSS JOIN assertion_rows AS a ON a.id = p.assertion_id
		ORDER BY `+order, append(args, p.Limit+1)...)
	if err != nil {
		return Page{}, fmt.Errorf("query winners: %w", err)
	}
	defer rows.Close()
	var ranks []int64
	for rows.Next() {
		var a Assertion
		var rank int64
		if err := scanAssertion(rows, &a, &rank); err != nil {
			return Page{}, fmt.Errorf("query winners: %w", err)
		}
		page.Assertions = append(page.Assertions, a)
		ranks = append(ranks, rank)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("query winners: %w", err)
	}
	rows.Close()

	if len(page.Assertions) > p.Limit {
		page.Assertions = page.Assertions[:p.Limit]
		last := &page.Assertions[p.Limit-1]
		page.HasMore = true
		page.Next = &Cursor{Subject: last.Subject, Predicate: last.Predicate, Rank: ranks[p.Limit-1]}
	}
	ptrs := make([]*Assertion, len(page.Assertions))
	for i := range page.Assertions {
		ptrs[i] = &page.Assertions[i]
	}
	if err := fillActs(ctx, tx, ptrs); err != nil {
		return Page{}, fmt.Errorf("query winners: %w", err)
	}
	return page, nil
}

// cursorVersion is the first byte of an encoded cursor, so the format can change.
const cursorVersion = 1

// Encode returns c as an opaque URL-safe string (the API's next_cursor).
func (c Cursor) Encode() string {
	b := []byte{cursorVersion}
	b = binary.AppendUvarint(b, uint64(len(c.Subject)))
	b = append(b, c.Subject...)
	b = binary.AppendUvarint(b, uint64(len(c.Predicate)))
	b = append(b, c.Predicate...)
	b = binary.AppendUvarint(b, uint64(c.Rank))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor written by Cursor.Encode. Errors match ErrBadCursor.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || b[0] != cursorVersion {
		return Cursor{}, fmt.Errorf("decode cursor: %w", ErrBadCursor)
	}
	b = b[1:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, utf8.ValidString(s)
	}
	var c Cursor
	var ok1, ok2 bool
	c.Subject, ok1 = str()
	c.Predicate, ok2 = str()
	rank, k := binary.Uvarint(b)
	if !ok1 || !ok2 || k <= 0 || k != len(b) || rank > 1<<62 {
		return Cursor{}, fmt.Errorf("decode cursor: %w", ErrBadCursor)
	}
	c.Rank = int64(rank)
	return c, nil
}
