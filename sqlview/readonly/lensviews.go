package readonly

import (
	"fmt"
	"strings"
)

// Lens views: one view per materialized lens, so that an analyst writes
//
//	SELECT subject, object_value FROM resolved_consensus WHERE predicate = 'has_revenue'
//
// instead of joining resolved to assertions and filtering on the lens name. They are
// TEMP views, created on each ad-hoc connection when it opens (setupConn), because a
// read-only connection can create nothing in the database file, and because their
// definition is a convenience of this SQL surface rather than part of the stored
// schema that sqlview migrates. They read only the pinned views, so sqlview can
// reshape its internal tables without breaking them.

// lensView is the view name for lens: "resolved_" + the name in snake case
// (VoteAwareConsensus -> resolved_vote_aware_consensus, my-lens -> resolved_my_lens),
// or "" when the name has characters a lens name cannot have (API.md §5).
func lensView(lens string) string {
	if lens == "" || len(lens) > 64 {
		return ""
	}
	var b strings.Builder
	b.WriteString("resolved_")
	for i := 0; i < len(lens); i++ {
		c := lens[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if i > 0 && (isLower(lens[i-1]) || isDigit(lens[i-1]) ||
				(i+1 < len(lens) && isLower(lens[i+1]) && isUpper(lens[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteByte(c + 'a' - 'A')
		case isLower(c) || isDigit(c):
			b.WriteByte(c)
		case c == '_' || c == '-':
			b.WriteByte('_')
		default:
			return ""
		}
	}
	return b.String()
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// lensViewSQL creates lens's view: its winners, one row per (subject, predicate,
// rank), with the winning assertion's object and confidence alongside.
func lensViewSQL(lens string) string {
	return fmt.Sprintf(`CREATE TEMP VIEW %s AS
SELECT r.subject, r.predicate, r.rank, r.assertion_hash,
       a.object_type, a.object_value, a.confidence, a.source_hash
FROM main.resolved AS r
JOIN main.assertions AS a ON a.hash = r.assertion_hash
WHERE r.lens = %s`, quoteIdent(lensView(lens)), quoteString(lens))
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
