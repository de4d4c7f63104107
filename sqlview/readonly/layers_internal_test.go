package readonly

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sqlite "modernc.org/sqlite"

	"github.com/stemedb/stemedb/sqlview/readonly/readonlytest"
)

// These tests take each defence layer alone, on a connection that has none of the
// others, to show what it stops by itself (and, for the read-only mode, what it does
// not stop, which is why the other layers exist).

// rawConn opens one connection to dsn through a private driver, with hook (if any)
// run on it, as Open does.
func rawConn(t *testing.T, dsn string, hook sqlite.ConnectionHookFn) *sql.Conn {
	t.Helper()
	drv := &sqlite.Driver{}
	if hook != nil {
		drv.RegisterConnectionHook(hook)
	}
	pool := sql.OpenDB(connector{drv: drv, dsn: dsn})
	pool.SetMaxOpenConns(1)
	conn, err := pool.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.Close()
		pool.Close()
	})
	return conn
}

func exec(conn *sql.Conn, q string) error {
	rows, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// TestLayer1_ReadOnlyMode: mode=ro alone refuses writes to the file, but not the
// attacks the issue measured: ATTACH creates a file, a TEMP VIEW shadows a real one,
// and the driver runs every statement of a multi-statement string.
func TestLayer1_ReadOnlyMode(t *testing.T) {
	f := readonlytest.New(t)
	f.Seed(t)
	before := f.State(t)
	conn := rawConn(t, dsn(f.Path, DefaultCacheKiB), nil)

	for _, q := range []string{
		"INSERT INTO state (key, value) VALUES ('x', 1)",
		"DELETE FROM assertion_rows",
		"UPDATE agent_rows SET trust = 0",
		"CREATE TABLE evil (x)",
		"DROP VIEW assertions",
	} {
		err := exec(conn, q)
		require.Error(t, err, q)
		assert.Contains(t, err.Error(), "readonly", q)
	}

	t.Run("gaps", func(t *testing.T) {
		require.NoError(t, exec(conn, "CREATE TEMP VIEW assertions AS SELECT 'shadow' AS hash"))
		var hash string
		require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT hash FROM assertions").Scan(&hash))
		assert.Equal(t, "shadow", hash, "a TEMP VIEW shadows the real one on this connection")

		evil := filepath.Join(f.Dir, "attached.db")
		require.NoError(t, exec(conn, fmt.Sprintf("ATTACH '%s' AS evil", evil)))
		require.NoError(t, exec(conn, "CREATE TABLE evil.x (a)"))
		assert.Contains(t, readonlytest.ListFiles(t, f.Dir, "stemedb.sqlite"), "attached.db", "ATTACH created a file")

		require.NoError(t, exec(conn, "SELECT 1; CREATE TEMP TABLE second (a)"))
		require.NoError(t, exec(conn, "SELECT * FROM temp.second"), "the driver ran the second statement")
	})
	assert.Equal(t, before, f.State(t), "the database itself is untouched")
}

// TestLayer2_Authorizer: the authorizer alone, on a read-write connection with no
// limits and no guard, refuses every write, TEMP object, ATTACH, VACUUM INTO, PRAGMA,
// extension and internal table, and allows reads of the queryable schema.
func TestLayer2_Authorizer(t *testing.T) {
	f := readonlytest.New(t)
	f.Seed(t)
	before, files := f.State(t), f.Files(t)
	p := newPolicy(nil)
	conn := rawConn(t, "file:"+f.Path, nil) // read-write: only the authorizer stands
	require.NoError(t, p.learn(context.Background(), conn))
	// Each statement gets a fresh request-scoped authorizer, as Query installs.
	exec := func(conn *sql.Conn, q string) error {
		require.NoError(t, conn.Raw(func(dc any) error {
			return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(p.authorizer(&authState{}))
		}))
		return exec(conn, q)
	}

	refused := []string{
		"INSERT INTO state (key, value) VALUES ('x', 1)",
		"REPLACE INTO state (key, value) VALUES ('ingested_offset', 0)",
		"INSERT INTO state (key, value) VALUES ('ingested_offset', 0) ON CONFLICT (key) DO UPDATE SET value = 7",
		"UPDATE agent_rows SET trust = 0",
		"DELETE FROM assertion_rows",
		"WITH x AS (SELECT 1) DELETE FROM state",
		"CREATE TABLE evil (x)",
		"CREATE TEMP VIEW assertions AS SELECT 'shadow' AS hash",
		"CREATE TEMP TABLE t (x)",
		"CREATE INDEX evil ON assertion_rows (confidence)",
		"CREATE TRIGGER evil AFTER INSERT ON state BEGIN DELETE FROM state; END",
		"CREATE VIRTUAL TABLE v USING fts5(x)",
		"DROP VIEW assertions",
		"ALTER TABLE state ADD COLUMN x",
		"ATTACH '" + filepath.Join(f.Dir, "attached.db") + "' AS evil",
		"VACUUM",
		"VACUUM INTO '" + filepath.Join(f.Dir, "copy.db") + "'",
		"PRAGMA query_only = 0",
		"PRAGMA writable_schema = 1",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA table_info(assertions)", // allowed pragma, but not on an internal table ...
		"BEGIN",
		"SAVEPOINT s",
		"ANALYZE",
		"REINDEX",
		"SELECT load_extension('/tmp/evil.so')",
		"SELECT sqlite_offset(hash) FROM assertions",
		"SELECT changes()",
		"SELECT * FROM dirty_groups",
		"SELECT count(*) FROM claim_groups",
		"SELECT * FROM pending_acts",
		"SELECT * FROM state",
		"SELECT * FROM sqlite_dbpage",
		"SELECT * FROM dbstat",
		"SELECT * FROM pragma_database_list",
		"SELECT * FROM pragma_table_info('state')",
		"WITH assertions AS (SELECT * FROM state) SELECT * FROM assertions",
	}
	for _, q := range refused {
		err := exec(conn, q)
		if q == "PRAGMA table_info(assertions)" {
			// ... on a queryable view it is allowed: the authorizer cannot tell the
			// statement from what pragma_table_info() runs; the guard refuses PRAGMA
			// statements.
			assert.NoError(t, err)
			continue
		}
		require.Error(t, err, q)
		assert.Regexp(t, "not authorized|prohibited|authorization denied", err.Error(), q)
	}
	allowed := []string{
		"SELECT * FROM assertions",
		"SELECT count(*) FROM assertions",
		"SELECT count(*) FROM resolved",
		"SELECT a.subject, v.vote FROM assertions a JOIN votes v ON v.assertion_hash = a.hash",
		"SELECT * FROM signatures, agents WHERE signatures.agent_id = agents.agent_id",
		"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT sum(n) FROM c",
		"SELECT * FROM pragma_table_info('assertions')",
		"SELECT name FROM pragma_function_list",
		"SELECT value FROM json_each('[1, 2, 3]')",
		"SELECT name, sql FROM sqlite_schema",
		"SELECT lower(hex(randomblob(4))), json_object('a', 1), datetime('now'), abs(-1)",
		"SELECT lens, rank() OVER (PARTITION BY subject ORDER BY rank) FROM resolved",
	}
	for _, q := range allowed {
		assert.NoError(t, exec(conn, q), q)
	}
	assert.Equal(t, before, f.State(t))
	assert.Equal(t, files, f.Files(t), "no file appeared")
}

// TestLayer4_Limits: the limits alone, on a read-write connection with no authorizer,
// stop memory bombs and runaway compiles fast, and ATTACH (so VACUUM INTO) with them.
func TestLayer4_Limits(t *testing.T) {
	dir := t.TempDir()
	conn := rawConn(t, "file:"+filepath.Join(dir, "x.sqlite"), nil)
	require.NoError(t, applyLimits(conn))
	deep := strings.Repeat("abs(", 300) + "1" + strings.Repeat(")", 300)
	plus := "SELECT 1" + strings.Repeat(" + 1", 1000)
	compound := "SELECT 1" + strings.Repeat(" UNION ALL SELECT 1", 100)
	tests := []struct{ q, want string }{
		{"SELECT randomblob(2e9)", "too big"},
		{"SELECT zeroblob(1e9)", "too big"},
		{"SELECT printf('%.*c', 1000000000, 'x')", "too big"},
		{"SELECT length(replace(hex(zeroblob(1000000)), '0', '00000000000000000000'))", "too big"},
		{"WITH RECURSIVE c(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM c) SELECT length(s) FROM c", "too big"},
		{"SELECT " + deep, "too large"},
		{plus, "too large"},
		{compound, "too many terms"},
		{"ATTACH '" + filepath.Join(dir, "attached.db") + "' AS evil", "too many attached"},
		{"VACUUM INTO '" + filepath.Join(dir, "copy.db") + "'", "too many attached"},
	}
	for _, tt := range tests {
		start := time.Now()
		err := exec(conn, tt.q)
		require.Error(t, err, tt.q)
		assert.Contains(t, err.Error(), tt.want, tt.q)
		assert.Less(t, time.Since(start), 2*time.Second, "fails fast: %s", tt.q)
	}
	assert.Equal(t, []string{"x.sqlite"}, readonlytest.ListFiles(t, dir, "x.sqlite"), "no file appeared")
}
