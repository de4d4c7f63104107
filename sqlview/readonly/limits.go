package readonly

import (
	"database/sql"
	"fmt"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MaxValueBytes is SQLITE_LIMIT_LENGTH on ad-hoc connections: the largest string or
// blob a statement may build (and, for SQLite, the largest row). SQLite's default
// is 1 GB, which lets "SELECT randomblob(2e9)" or printf('%.*c', 1e9, 'x') allocate
// until the process dies; with this limit they fail at once with "string or blob too
// big". The largest value StemeDB stores is a 64 KiB Json object, and group_concat
// over a whole column of hashes still fits about 200,000 of them.
const MaxValueBytes = 16 << 20

// connLimits are the sqlite3_limit values set on every ad-hoc connection; see
// https://www.sqlite.org/limits.html. They bound what one statement can make SQLite
// allocate or compile, where the deadline bounds only time.
var connLimits = []struct {
	id    int
	value int
	why   string
}{
	{sqlite3.SQLITE_LIMIT_LENGTH, MaxValueBytes, "memory bombs fail fast"},
	{sqlite3.SQLITE_LIMIT_SQL_LENGTH, MaxSQLBytes, "matches the guard"},
	{sqlite3.SQLITE_LIMIT_ATTACHED, 0, "no ATTACH, hence no VACUUM INTO, whatever the authorizer says"},
	{sqlite3.SQLITE_LIMIT_COLUMN, 500, "result width; default 2000"},
	{sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 200, "deeply nested expressions recurse in the code generator; default 1000"},
	{sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 50, "each UNION term is compiled separately; default 500"},
	{sqlite3.SQLITE_LIMIT_VDBE_OP, 250_000, "size of the compiled program; default 250,000,000"},
	{sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 127, "arguments of one call"},
	{sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000, "LIKE/GLOB cost grows with the pattern; default 50,000"},
	{sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1000, "parameters of one statement; default 32,766"},
	{sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH, 1, "no triggers can exist here"},
	{sqlite3.SQLITE_LIMIT_WORKER_THREADS, 0, "a sort may not take extra threads from ingest"},
}

// applyLimits sets connLimits on conn. modernc exposes sqlite3_limit only through a
// *sql.Conn, not in the connection hook, so this runs when a request takes a
// connection; it is a dozen integer stores, and it means no connection can serve a
// request without its limits.
func applyLimits(conn *sql.Conn) error {
	for _, l := range connLimits {
		if _, err := sqlite.Limit(conn, l.id, l.value); err != nil {
			return fmt.Errorf("set limit %d: %w", l.id, err)
		}
	}
	return nil
}
