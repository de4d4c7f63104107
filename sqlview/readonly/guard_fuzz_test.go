package readonly_test

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stemedb/stemedb/sqlview/readonly"
)

// FuzzGuard checks the statement guard against SQLite itself: whatever Check accepts
// must be, to SQLite's own parser, at most one statement with nothing after it. The
// oracle prepares the accepted text with sqlite3_prepare_v2 on an in-memory database
// and follows the tail pointer, which is exactly how the driver would find a second
// statement to run. Text that SQLite refuses to prepare is not a finding (nothing
// runs); the tables t(a, b, c) and u(x) exist so that many mutations do prepare.
//
// Run: go test ./sqlview/readonly -run '^$' -fuzz FuzzGuard -fuzztime 60s
// Crashers are kept under testdata/fuzz/FuzzGuard and replay with go test.
func FuzzGuard(f *testing.F) {
	for _, seed := range []string{
		"SELECT 1",
		"SELECT a, b FROM t WHERE c = 'x;y'",
		"SELECT 1; DELETE FROM t",
		"SELECT 'it''s' -- ; DELETE FROM t\n",
		"SELECT \"a;b\", `c;d`, [e;f] FROM t",
		"SELECT $a(;) FROM t",
		"SELECT $a(');DELETE FROM t;--'",
		"SELECT :x::y, @z, ?1, ?, #w FROM t",
		"SELECT x'3b3b', X'' FROM t /* ; */",
		"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<5) SELECT * FROM c",
		"EXPLAIN QUERY PLAN SELECT * FROM t JOIN u ON x = a",
		"VALUES (1,'a'),(2,'b');;",
		"SELECT 1e5, .5, 0x1F, 1_000, 1.5e-3 FROM t",
		"SELECT a->'$.x', b->>'$[0]' FROM t",
		"\ufeffSELECT 1",
		"SELECT 1 /* unterminated ; DELETE",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END",
		"SELECT 'a' || \"b\" || [c] FROM t WHERE a != b AND b <> c AND c == a",
		"SELECT\t1\r\n;\fSELECT\v2",
	} {
		f.Add(seed)
	}
	o := newOracle(f)
	f.Fuzz(func(t *testing.T, sql string) {
		got, err := readonly.Check(sql)
		if err != nil {
			var e *readonly.Error
			require.ErrorAs(t, err, &e, "refusals are *Error")
			return
		}
		require.NotEmpty(t, got)
		require.True(t, strings.Contains(sql, got), "the statement is cut out of the input")
		again, err := readonly.Check(got)
		require.NoError(t, err, "the cut-out statement passes again")
		require.Equal(t, got, again)
		if n, ok := o.statements(t, got); ok {
			require.Equal(t, 1, n, "SQLite sees %d statements in %q", n, got)
		}
	})
}

// oracle is a raw SQLite connection, used through the C API as the driver uses it.
type oracle struct {
	tls *libc.TLS
	db  uintptr
}

func newOracle(tb testing.TB) *oracle {
	tls := libc.NewTLS()
	o := &oracle{tls: tls}
	name := cstring(tb, tls, ":memory:")
	defer libc.Xfree(tls, name)
	pdb := tls.Alloc(8)
	defer tls.Free(8)
	rc := sqlite3.Xsqlite3_open_v2(tls, name, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, 0)
	require.Equal(tb, int32(sqlite3.SQLITE_OK), rc)
	o.db = loadPtr(pdb)
	for _, ddl := range []string{"CREATE TABLE t(a, b, c)", "CREATE TABLE u(x)"} {
		n, ok := o.statements(tb, ddl)
		require.True(tb, ok && n == 1, ddl)
		o.exec(tb, ddl)
	}
	tb.Cleanup(func() {
		sqlite3.Xsqlite3_close_v2(tls, o.db)
		tls.Close()
	})
	return o
}

func cstring(tb testing.TB, tls *libc.TLS, s string) uintptr {
	p, err := libc.CString(s)
	require.NoError(tb, err)
	return p
}

// statements prepares every statement of sql in turn, following the tail as
// sqlite3_prepare_v2 reports it, and counts the non-empty ones. ok is false when
// SQLite refused one: then nothing after it would run either.
func (o *oracle) statements(tb testing.TB, sql string) (n int, ok bool) {
	cs := cstring(tb, o.tls, sql)
	defer libc.Xfree(o.tls, cs)
	pstmt := o.tls.Alloc(8)
	defer o.tls.Free(8)
	ptail := o.tls.Alloc(8)
	defer o.tls.Free(8)
	for p := cs; *(*byte)(unsafe.Add(nil, p)) != 0; {
		rc := sqlite3.Xsqlite3_prepare_v2(o.tls, o.db, p, -1, pstmt, ptail)
		if rc != sqlite3.SQLITE_OK {
			return n, false
		}
		if stmt := loadPtr(pstmt); stmt != 0 {
			n++
			sqlite3.Xsqlite3_finalize(o.tls, stmt)
		}
		next := loadPtr(ptail)
		if next == p {
			break
		}
		p = next
	}
	return n, true
}

func (o *oracle) exec(tb testing.TB, sql string) {
	cs := cstring(tb, o.tls, sql)
	defer libc.Xfree(o.tls, cs)
	rc := sqlite3.Xsqlite3_exec(o.tls, o.db, cs, 0, 0, 0)
	require.Equal(tb, int32(sqlite3.SQLITE_OK), rc, sql)
}

// loadPtr reads a pointer that SQLite wrote into C memory at p. The memory is libc's,
// not Go's, so the address arithmetic is safe; unsafe.Add says so without a uintptr
// conversion.
func loadPtr(p uintptr) uintptr { return *(*uintptr)(unsafe.Add(nil, p)) }
