package readonly

import (
	"strings"
	"unicode/utf8"
)

// MaxSQLBytes is the longest statement text accepted, also set as the connection's
// SQLITE_LIMIT_SQL_LENGTH. An analyst's query with a long IN list of hashes fits many
// times over.
const MaxSQLBytes = 256 << 10

// readKeywords may start the one statement of a request. EXPLAIN is followed by one of
// the others (optionally after QUERY PLAN).
var readKeywords = map[string]bool{"SELECT": true, "WITH": true, "VALUES": true}

// writeKeywords start statements that are refused as forbidden rather than as
// malformed: well-formed SQL that this endpoint will never run.
var writeKeywords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "REPLACE": true,
	"CREATE": true, "DROP": true, "ALTER": true, "ATTACH": true, "DETACH": true,
	"VACUUM": true, "PRAGMA": true, "REINDEX": true, "ANALYZE": true,
	"BEGIN": true, "COMMIT": true, "END": true, "ROLLBACK": true, "SAVEPOINT": true,
	"RELEASE": true,
}

// Check is the statement guard: it accepts exactly one statement that starts like a
// read (SELECT, WITH, VALUES, or EXPLAIN [QUERY PLAN] of one of those) and returns
// its text with surrounding whitespace, comments and semicolons cut away, which is
// what should be prepared. The driver would otherwise run every statement of
// "SELECT 1; DELETE ...", one after the other.
//
// Statement boundaries are found with a port of SQLite's own tokenizer, so semicolons
// inside string literals, quoted identifiers, comments and parameter names are not
// boundaries. Refusals are *Error values: ErrForbidden for a statement that starts
// like a write, PRAGMA, ATTACH, VACUUM or a transaction, ErrSQL for everything else
// (empty input, several statements, a token SQLite would not recognise).
//
// Check looks only at how a statement starts. "WITH x AS (...) DELETE ..." passes
// here and is refused by the authorizer, which sees what SQLite compiled.
func Check(sql string) (string, error) {
	switch {
	case len(sql) > MaxSQLBytes:
		return "", errorf(ErrSQL, "statement is %d bytes; the limit is %d", len(sql), MaxSQLBytes)
	case strings.IndexByte(sql, 0) >= 0:
		// SQLite stops reading at a NUL byte, so text after one would be invisible
		// to it but not to a reader of the logs.
		return "", errorf(ErrSQL, "statement contains a NUL byte")
	case !utf8.ValidString(sql):
		return "", errorf(ErrSQL, "statement is not valid UTF-8")
	}
	toks := tokenize(sql)
	var stmts [][]token // the significant tokens of each statement
	var cur []token
	for _, t := range toks {
		switch t.kind {
		case tokSpace, tokComment:
			continue
		case tokIllegal:
			return "", errorf(ErrSQL, "unrecognized token: %q", clip(sql[t.start:t.end]))
		case tokSemi:
			if len(cur) > 0 {
				stmts = append(stmts, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		stmts = append(stmts, cur)
	}
	if len(stmts) == 0 {
		return "", errorf(ErrSQL, "no statement given")
	}
	// A write anywhere is named as such, whatever else is wrong.
	for _, st := range stmts {
		if kw := leadKeyword(sql, st); writeKeywords[kw] {
			return "", errorf(ErrForbidden, "%s statements are not allowed: SQL here only reads", kw)
		}
	}
	if len(stmts) > 1 {
		return "", errorf(ErrSQL, "%d statements given; send exactly one", len(stmts))
	}
	st := stmts[0]
	if kw := leadKeyword(sql, st); !readKeywords[kw] {
		return "", errorf(ErrSQL, "a statement must start with SELECT, WITH, VALUES or EXPLAIN, not %q",
			clip(sql[st[0].start:st[0].end]))
	}
	return sql[st[0].start:st[len(st)-1].end], nil
}

// leadKeyword is the upper-cased first word of a statement, after EXPLAIN and
// EXPLAIN QUERY PLAN; "" if the statement does not start with a word.
func leadKeyword(sql string, st []token) string {
	word := func(i int) string {
		if i >= len(st) || st[i].kind != tokWord {
			return ""
		}
		return strings.ToUpper(sql[st[i].start:st[i].end])
	}
	i := 0
	if word(0) == "EXPLAIN" {
		i = 1
		if word(1) == "QUERY" && word(2) == "PLAN" {
			i = 3
		}
	}
	return word(i)
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:max]
}
