package readonly_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview/readonly"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string // the statement to prepare; "" when refused
		err  error
	}{
		{"select", "SELECT 1", "SELECT 1", nil},
		{"lower case and spaces", "  select 1  ", "select 1", nil},
		{"trailing semicolons and comments", "SELECT 1; ; -- done\n/* bye */", "SELECT 1", nil},
		{"leading comment", "-- hello;\n/* ; */ SELECT 1", "SELECT 1", nil},
		{"with", "WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x", nil},
		{"values", "VALUES (1), (2)", "VALUES (1), (2)", nil},
		{"explain", "EXPLAIN SELECT 1", "EXPLAIN SELECT 1", nil},
		{"explain query plan", "explain query plan select 1", "explain query plan select 1", nil},
		{"semicolon in string", "SELECT 'a;b'", "SELECT 'a;b'", nil},
		{"semicolon after escaped quote", "SELECT 'it''s; fine'", "SELECT 'it''s; fine'", nil},
		{"semicolon in quoted identifier", `SELECT 1 AS "a;b"`, `SELECT 1 AS "a;b"`, nil},
		{"semicolon in backticks", "SELECT 1 AS `a;b`", "SELECT 1 AS `a;b`", nil},
		{"semicolon in brackets", "SELECT 1 AS [a;b]", "SELECT 1 AS [a;b]", nil},
		{"semicolon in block comment", "SELECT 1 /* ; DELETE */", "SELECT 1", nil},
		{"semicolon in line comment", "SELECT 1 -- ; DELETE FROM x", "SELECT 1", nil},
		{"semicolon in blob literal", "SELECT x'3b'", "SELECT x'3b'", nil},
		{"semicolon in tcl variable", "SELECT $a(;)", "SELECT $a(;)", nil},
		{"unterminated block comment runs to the end", "SELECT 1 /* ; DELETE FROM t", "SELECT 1", nil},
		{"json operators", "SELECT '{}' ->> '$.a'", "SELECT '{}' ->> '$.a'", nil},

		{"empty", "", "", readonly.ErrSQL},
		{"only comments", "-- nothing\n/* */ ;", "", readonly.ErrSQL},
		{"two selects", "SELECT 1; SELECT 2", "", readonly.ErrSQL},
		{"select then delete", "SELECT 1; DELETE FROM assertions", "", readonly.ErrForbidden},
		// SQLite reads "$a(')" as one parameter, so the ';' after it ends a statement
		// even though a naive tokenizer would still be inside a string.
		{"tcl variable swallows a quote", "SELECT $a(');DELETE FROM t;--'", "", readonly.ErrForbidden},
		{"unterminated string", "SELECT 'abc", "", readonly.ErrSQL},
		{"unterminated identifier", `SELECT "abc`, "", readonly.ErrSQL},
		{"illegal character", "SELECT 1 \\ 2", "", readonly.ErrSQL},
		{"NUL byte", "SELECT 1\x00; DELETE FROM t", "", readonly.ErrSQL},
		{"invalid UTF-8", "SELECT '\xff'", "", readonly.ErrSQL},
		{"not a read", "FOO BAR", "", readonly.ErrSQL},
		{"explain alone", "EXPLAIN", "", readonly.ErrSQL},
		{"insert", "INSERT INTO t VALUES (1)", "", readonly.ErrForbidden},
		{"replace", "REPLACE INTO t VALUES (1)", "", readonly.ErrForbidden},
		{"update", "update t set a = 1", "", readonly.ErrForbidden},
		{"delete", "DELETE FROM t", "", readonly.ErrForbidden},
		{"create temp view", "CREATE TEMP VIEW assertions AS SELECT 1", "", readonly.ErrForbidden},
		{"drop", "DROP VIEW assertions", "", readonly.ErrForbidden},
		{"alter", "ALTER TABLE t ADD COLUMN x", "", readonly.ErrForbidden},
		{"attach", "ATTACH 'x.db' AS x", "", readonly.ErrForbidden},
		{"detach", "DETACH x", "", readonly.ErrForbidden},
		{"vacuum into", "VACUUM INTO '/tmp/x.db'", "", readonly.ErrForbidden},
		{"pragma", "PRAGMA query_only = 0", "", readonly.ErrForbidden},
		{"pragma after comment", "/* hi */ pragma writable_schema=1", "", readonly.ErrForbidden},
		{"explain pragma", "EXPLAIN PRAGMA table_info(t)", "", readonly.ErrForbidden},
		{"begin", "BEGIN", "", readonly.ErrForbidden},
		{"savepoint", "SAVEPOINT s", "", readonly.ErrForbidden},
		{"reindex", "REINDEX", "", readonly.ErrForbidden},
		{"analyze", "ANALYZE", "", readonly.ErrForbidden},
		{"too long", "SELECT '" + strings.Repeat("x", readonly.MaxSQLBytes) + "'", "", readonly.ErrSQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readonly.Check(tt.sql)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				var e *readonly.Error
				require.ErrorAs(t, err, &e)
				assert.NotEmpty(t, e.Msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
