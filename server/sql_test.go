package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/sqlview/readonly/readonlytest"
	"github.com/stemedb/stemedb/wal"
)

// sqlServer is a server with the read path and /v1/sql over a seeded database, on a
// loopback port.
type sqlServer struct {
	t   *testing.T
	url string
	f   *readonlytest.Fixture
	ro  *readonly.DB
}

// builtinLenses is the server's LensCatalog in these tests.
type builtinLenses struct{}

func (builtinLenses) Canonical(name string) (string, bool) {
	for _, n := range host.BuiltinNames() {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

func newSQLServer(t *testing.T, opts readonly.Options) *sqlServer {
	t.Helper()
	f := readonlytest.New(t)
	f.Seed(t)
	ro, err := readonly.Open(context.Background(), f.Path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ro.Close()) })
	return &sqlServer{t: t, url: serveSQL(t, ro, f), f: f, ro: ro}
}

// serveSQL serves runner on /v1/sql (and, with f, the query API on f's views).
func serveSQL(t *testing.T, runner server.SQLRunner, f *readonlytest.Fixture) string {
	t.Helper()
	l, err := wal.Open(t.TempDir(), wal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	cfg := server.Config{Log: l, SQL: runner}
	if f != nil {
		cfg.Views, cfg.Freshness, cfg.Lenses = f.Views, f.Materializer(), builtinLenses{}
	}
	s, err := server.New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// sqlAnswer is a decoded JSON answer, success or error.
type sqlAnswer struct {
	Status    int
	Columns   []string           `json:"columns"`
	Rows      [][]jsontext.Value `json:"rows"`
	Truncated bool               `json:"truncated"`
	ElapsedMS *float64           `json:"elapsed_ms"`
	Error     *api.Error         `json:"error"`
	Header    http.Header        `json:"-"`
	Body      []byte             `json:"-"`
}

func (a *sqlAnswer) code() string {
	if a.Error == nil {
		return ""
	}
	return a.Error.Code
}

// post sends body (JSON text) to POST /v1/sql.
func (s *sqlServer) post(body string) *sqlAnswer {
	s.t.Helper()
	return doSQL(s.t, http.MethodPost, s.url+"/v1/sql", body)
}

// sql posts one statement.
func (s *sqlServer) sql(stmt string) *sqlAnswer {
	s.t.Helper()
	body, err := json.Marshal(map[string]string{"sql": stmt})
	require.NoError(s.t, err)
	return s.post(string(body))
}

func (s *sqlServer) get(q url.Values) *sqlAnswer {
	s.t.Helper()
	return doSQL(s.t, http.MethodGet, s.url+"/v1/sql?"+q.Encode(), "")
}

func doSQL(t *testing.T, method, u, body string) *sqlAnswer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := &sqlAnswer{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(data, a), "%s", data)
	}
	return a
}

func TestSQL_JSONAnswer(t *testing.T) {
	s := newSQLServer(t, readonly.Options{})
	a := s.sql("SELECT 42 AS i, 1.5 AS r, 2.0 AS r2, 'x;\"y' AS t, x'00ff' AS b, NULL AS n, 1e999 AS inf")
	require.Equal(t, http.StatusOK, a.Status, "%s", a.Body)
	assert.Equal(t, []string{"i", "r", "r2", "t", "b", "n", "inf"}, a.Columns)
	require.Len(t, a.Rows, 1)
	var row []string
	for _, v := range a.Rows[0] {
		row = append(row, string(v))
	}
	assert.Equal(t, []string{`42`, `1.5`, `2.0`, `"x;\"y"`, `"00ff"`, `null`, `9e999`}, row)
	assert.False(t, a.Truncated)
	require.NotNil(t, a.ElapsedMS)
	assert.GreaterOrEqual(t, *a.ElapsedMS, 0.0)
	assert.True(t, bytes.HasPrefix(a.Body, []byte(`{"columns":`)), "pinned field order: %s", a.Body)
}

func TestSQL_Requests(t *testing.T) {
	s := newSQLServer(t, readonly.Options{MaxRows: 5, HardMaxRows: 100})
	series := "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20) SELECT n FROM c"
	tests := []struct {
		name   string
		method string
		body   string     // POST
		query  url.Values // GET
		status int
		code   string
		rows   string // the rows, as JSON text
		trunc  bool
	}{
		{name: "positional params", method: "POST", status: 200,
			body: `{"sql": "SELECT ?, ?, ?, ?, ?", "params": [1, 2.5, "x", true, null]}`, rows: `[[1,2.5,"x",1,null]]`},
		{name: "integer-looking large number binds as REAL", method: "POST", status: 200,
			body: `{"sql": "SELECT typeof(?), typeof(?)", "params": [1e3, 18446744073709551616]}`, rows: `[["real","real"]]`},
		{name: "named params", method: "POST", status: 200,
			body: `{"sql": "SELECT count(*) FROM assertions WHERE subject = :s AND predicate = $p", "params": {"s": "Tesla_Inc", "$p": "has_revenue"}}`,
			rows: `[[2]]`},
		{name: "row cap", method: "POST", status: 200, body: `{"sql": "` + series + `"}`,
			rows: `[[1],[2],[3],[4],[5]]`, trunc: true},
		{name: "max_rows", method: "POST", status: 200, body: `{"sql": "` + series + `", "max_rows": 20}`, trunc: false,
			rows: `[[1],[2],[3],[4],[5],[6],[7],[8],[9],[10],[11],[12],[13],[14],[15],[16],[17],[18],[19],[20]]`},
		{name: "max_rows above the hard maximum", method: "POST", status: 400, code: "sql_error",
			body: `{"sql": "SELECT 1", "max_rows": 101}`},
		{name: "GET", method: "GET", status: 200,
			query: url.Values{"sql": {"SELECT :x || @x"}, "params": {`{"x": "b"}`}}, rows: `[["bb"]]`},
		{name: "GET positional", method: "GET", status: 200,
			query: url.Values{"sql": {"SELECT ?1 + ?2"}, "params": {`[40, 2]`}, "max_rows": {"1"}}, rows: `[[42]]`},
		{name: "missing sql", method: "POST", status: 400, code: "invalid_request", body: `{}`},
		{name: "GET missing sql", method: "GET", status: 400, code: "invalid_request", query: url.Values{}},
		{name: "unknown field", method: "POST", status: 400, code: "invalid_request", body: `{"sql": "SELECT 1", "x": 1}`},
		{name: "duplicate key", method: "POST", status: 400, code: "invalid_request", body: `{"sql": "SELECT 1", "sql": "SELECT 2"}`},
		{name: "not JSON", method: "POST", status: 400, code: "invalid_json", body: `{"sql": `},
		{name: "sql not a string", method: "POST", status: 400, code: "invalid_json", body: `{"sql": 1}`},
		{name: "params not a list", method: "POST", status: 400, code: "invalid_request", body: `{"sql": "SELECT ?", "params": 1}`},
		{name: "nested param", method: "POST", status: 400, code: "invalid_request", body: `{"sql": "SELECT ?", "params": [[1]]}`},
		{name: "bad format", method: "POST", status: 400, code: "invalid_request", body: `{"sql": "SELECT 1", "format": "xml"}`},
		{name: "unknown GET parameter", method: "GET", status: 400, code: "invalid_request", query: url.Values{"sql": {"SELECT 1"}, "lens": {"x"}}},
		{name: "bad GET params", method: "GET", status: 400, code: "invalid_request", query: url.Values{"sql": {"SELECT ?"}, "params": {"[1"}}},
		{name: "bad max_rows", method: "GET", status: 400, code: "invalid_request", query: url.Values{"sql": {"SELECT 1"}, "max_rows": {"0"}}},
		{name: "missing param", method: "POST", status: 400, code: "sql_error", body: `{"sql": "SELECT ?, ?", "params": [1]}`},
		{name: "syntax error", method: "POST", status: 400, code: "sql_error", body: `{"sql": "SELECT FROM WHERE"}`},
		{name: "unknown table", method: "POST", status: 400, code: "sql_error", body: `{"sql": "SELECT * FROM nowhere"}`},
		{name: "PUT", method: "PUT", status: 405, code: "method_not_allowed", body: `{"sql": "SELECT 1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a *sqlAnswer
			if tt.method == "GET" {
				a = s.get(tt.query)
			} else {
				a = doSQL(t, tt.method, s.url+"/v1/sql", tt.body)
			}
			require.Equal(t, tt.status, a.Status, "%s", a.Body)
			assert.Equal(t, tt.code, a.code(), "%s", a.Body)
			if tt.status != 200 {
				assert.NotEmpty(t, a.Error.Message)
				return
			}
			rows, err := json.Marshal(a.Rows)
			require.NoError(t, err)
			assert.JSONEq(t, tt.rows, string(rows))
			assert.Equal(t, tt.trunc, a.Truncated)
		})
	}
}

func TestSQL_CSV(t *testing.T) {
	s := newSQLServer(t, readonly.Options{MaxRows: 2})
	a := s.get(url.Values{"sql": {"VALUES (1, 'a,b', NULL, x'ff', 0.5), (2, 'line\nbreak', '', x'', 3.0), (3, 'c', 'd', x'00', 1)"}, "format": {"csv"}})
	require.Equal(t, http.StatusOK, a.Status, "%s", a.Body)
	assert.Equal(t, "text/csv; charset=utf-8", a.Header.Get("Content-Type"))
	assert.Equal(t, "true", a.Header.Get("X-Stemedb-Truncated"))
	assert.NotEmpty(t, a.Header.Get("X-Stemedb-Elapsed-Ms"))
	recs, err := csv.NewReader(bytes.NewReader(a.Body)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"column1", "column2", "column3", "column4", "column5"},
		{"1", "a,b", "", "ff", "0.5"},
		{"2", "line\nbreak", "", "", "3.0"},
	}, recs)

	a = s.post(`{"sql": "SELECT * FROM nowhere", "format": "csv"}`)
	assert.Equal(t, http.StatusBadRequest, a.Status)
	assert.Equal(t, "sql_error", a.code(), "errors stay JSON")
}

func TestSQL_NDJSON(t *testing.T) {
	s := newSQLServer(t, readonly.Options{MaxRows: 10, HardMaxRows: 10_000, Timeout: 200 * time.Millisecond})
	lines := func(a *sqlAnswer) []string {
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(a.Body))
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		return out
	}
	t.Run("stream", func(t *testing.T) {
		a := s.post(`{"sql": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000) SELECT n, 'row' FROM c", "max_rows": 5000, "format": "ndjson"}`)
		require.Equal(t, http.StatusOK, a.Status)
		assert.Equal(t, "application/x-ndjson", a.Header.Get("Content-Type"))
		ls := lines(a)
		require.Len(t, ls, 5002)
		assert.Equal(t, `{"columns":["n","'row'"]}`, ls[0])
		assert.Equal(t, `[1,"row"]`, ls[1])
		assert.Equal(t, `[5000,"row"]`, ls[5000])
		assert.Regexp(t, `^\{"truncated":false,"rows":5000,"elapsed_ms":[0-9.]+\}$`, ls[5001])
	})
	t.Run("error before the stream", func(t *testing.T) {
		a := s.get(url.Values{"sql": {"DELETE FROM assertions"}, "format": {"ndjson"}})
		assert.Equal(t, http.StatusForbidden, a.Status)
		assert.Equal(t, "sql_forbidden", a.code())
	})
	t.Run("error in the stream", func(t *testing.T) {
		a := s.get(url.Values{"sql": {"SELECT 1 UNION ALL SELECT * FROM (" + bomb + ")"}, "format": {"ndjson"}})
		require.Equal(t, http.StatusOK, a.Status, "the status went out with the first line")
		ls := lines(a)
		require.Len(t, ls, 3)
		assert.Equal(t, `[1]`, ls[1])
		var last api.ErrorBody
		require.NoError(t, json.Unmarshal([]byte(ls[2]), &last))
		assert.Equal(t, "sql_timeout", last.Error.Code)
	})
}

// stubRunner answers every statement with err.
type stubRunner struct{ err error }

func (r stubRunner) Query(context.Context, readonly.Request, readonly.Sink) (readonly.Summary, error) {
	return readonly.Summary{}, r.err
}

func TestSQL_ErrorCodes(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{&readonly.Error{Kind: readonly.ErrForbidden, Msg: "no"}, 403, "sql_forbidden"},
		{&readonly.Error{Kind: readonly.ErrSQL, Msg: "no"}, 400, "sql_error"},
		{&readonly.Error{Kind: readonly.ErrTimeout, Msg: "no"}, 400, "sql_timeout"},
		{&readonly.Error{Kind: readonly.ErrBusy, Msg: "no"}, 429, "overloaded"},
		{readonly.ErrClosed, 503, "unavailable"},
		{errors.New("disk I/O error"), 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			u := serveSQL(t, stubRunner{tt.err}, nil)
			a := doSQL(t, http.MethodPost, u+"/v1/sql", `{"sql": "SELECT 1"}`)
			assert.Equal(t, tt.status, a.Status)
			assert.Equal(t, tt.code, a.code())
			if tt.status == 429 || tt.status == 503 {
				assert.NotEmpty(t, a.Header.Get("Retry-After"))
			}
			if tt.status == 500 {
				assert.NotContains(t, string(a.Body), "disk", "faults stay internal")
			}
		})
	}
}

// bomb counts to a trillion: it runs until the deadline stops it.
const bomb = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000000) SELECT count(*) FROM c"

// TestSQL_Attacks sends every attack of the issue through HTTP. Each must be refused
// or stopped with the contract's code; afterwards the data and the schema are intact
// (the same State as a twin database that saw the same writes and no attack), no
// file appeared in the data directory, and writes, materialization, the query API and
// other SQL kept working while a statement ran into its deadline.
func TestSQL_Attacks(t *testing.T) {
	const concurrency = 2
	s := newSQLServer(t, readonly.Options{Concurrency: concurrency, Timeout: 2 * time.Second})
	dir := s.f.Dir
	files := s.f.Files(t)
	nested := strings.Repeat("abs(", 500) + "1" + strings.Repeat(")", 500)
	attacks := []struct {
		name, sql string
		status    int
		code      string
	}{
		{"insert", "INSERT INTO state (key, value) VALUES ('x', 1)", 403, "sql_forbidden"},
		{"update", "UPDATE agents SET trust = 0", 403, "sql_forbidden"},
		{"delete", "DELETE FROM assertions", 403, "sql_forbidden"},
		{"replace", "REPLACE INTO state (key, value) VALUES ('ingested_offset', 0)", 403, "sql_forbidden"},
		{"upsert", "INSERT INTO state (key, value) VALUES ('ingested_offset', 0) ON CONFLICT (key) DO UPDATE SET value = 9", 403, "sql_forbidden"},
		{"delete in a CTE", "WITH x AS (SELECT 1) DELETE FROM state", 403, "sql_forbidden"},
		{"insert from a CTE", "WITH x AS (SELECT 'k', 1) INSERT INTO state SELECT * FROM x", 403, "sql_forbidden"},
		{"create table", "CREATE TABLE evil (x)", 403, "sql_forbidden"},
		{"create temp view", "CREATE TEMP VIEW assertions AS SELECT 'shadow' AS hash", 403, "sql_forbidden"},
		{"create temp table", "CREATE TEMP TABLE t (x)", 403, "sql_forbidden"},
		{"create index", "CREATE INDEX evil ON assertion_rows (confidence)", 403, "sql_forbidden"},
		{"create trigger", "CREATE TEMP TRIGGER evil AFTER INSERT ON state BEGIN DELETE FROM state; END", 403, "sql_forbidden"},
		{"create virtual table", "CREATE VIRTUAL TABLE temp.v USING fts5(x)", 403, "sql_forbidden"},
		{"drop view", "DROP VIEW assertions", 403, "sql_forbidden"},
		{"drop table", "DROP TABLE state", 403, "sql_forbidden"},
		{"alter", "ALTER TABLE state RENAME TO x", 403, "sql_forbidden"},
		{"attach", "ATTACH '" + filepath.Join(dir, "evil.db") + "' AS evil", 403, "sql_forbidden"},
		{"attach in a select", "SELECT 1 FROM evil.x", 400, "sql_error"},
		{"vacuum", "VACUUM", 403, "sql_forbidden"},
		{"vacuum into", "VACUUM INTO '" + filepath.Join(dir, "copy.db") + "'", 403, "sql_forbidden"},
		{"pragma writable_schema", "PRAGMA writable_schema = 1", 403, "sql_forbidden"},
		{"pragma query_only", "PRAGMA query_only = 0", 403, "sql_forbidden"},
		{"pragma journal_mode", "PRAGMA journal_mode = DELETE", 403, "sql_forbidden"},
		{"pragma read", "PRAGMA table_info(assertions)", 403, "sql_forbidden"},
		{"pragma function", "SELECT * FROM pragma_database_list", 403, "sql_forbidden"},
		{"load_extension", "SELECT load_extension('/tmp/evil.so')", 403, "sql_forbidden"},
		{"sqlite_dbpage", "SELECT * FROM sqlite_dbpage", 403, "sql_forbidden"},
		{"dbstat", "SELECT * FROM dbstat", 403, "sql_forbidden"},
		{"internal table", "SELECT * FROM state", 403, "sql_forbidden"},
		{"internal table count", "SELECT count(*) FROM pending_acts", 403, "sql_forbidden"},
		{"CTE named like a view", "WITH assertions AS (SELECT * FROM state) SELECT * FROM assertions", 403, "sql_forbidden"},
		{"transaction", "BEGIN", 403, "sql_forbidden"},
		{"two statements", "SELECT 1; SELECT 2", 400, "sql_error"},
		{"read then write", "SELECT 1; DELETE FROM state", 403, "sql_forbidden"},
		{"semicolon in a string is fine", "SELECT 'a;DELETE FROM state'", 200, ""},
		{"tcl variable hides a semicolon", "SELECT $a(');DELETE FROM state;--'", 403, "sql_forbidden"},
		{"NUL byte", "SELECT 1\x00; DELETE FROM state", 400, "sql_error"},
		{"randomblob bomb", "SELECT randomblob(2000000000)", 400, "sql_error"},
		{"zeroblob bomb", "SELECT length(zeroblob(1000000000))", 400, "sql_error"},
		{"printf bomb", "SELECT printf('%.*c', 1000000000, 'x')", 400, "sql_error"},
		{"doubling bomb", "WITH RECURSIVE c(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM c) SELECT max(length(s)) FROM c", 400, "sql_error"},
		{"nested expressions", "SELECT " + nested, 400, "sql_error"},
		{"huge compound", "SELECT 1" + strings.Repeat(" UNION SELECT 1", 600), 400, "sql_error"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			ans := s.sql(a.sql)
			assert.Equal(t, a.status, ans.Status, "%s", ans.Body)
			assert.Equal(t, a.code, ans.code(), "%s", ans.Body)
		})
	}

	t.Run("no TEMP object survives on any pooled connection", func(t *testing.T) {
		for range concurrency + 1 {
			ans := s.sql("SELECT count(*) FROM assertions WHERE hash = 'shadow'")
			require.Equal(t, 200, ans.Status)
			assert.Equal(t, "0", string(ans.Rows[0][0]))
		}
	})

	t.Run("bomb under load", func(t *testing.T) {
		// The twin gets the same writes without the attacks.
		twin := readonlytest.New(t)
		twin.Seed(t)
		writes := loadRecords(20)

		bombDone := make(chan *sqlAnswer, 1)
		go func() { bombDone <- s.sql(bomb) }()
		// The bomb runs (or queues for a slot: with two slots it runs at once); ingest,
		// the materializer, the query API and other SQL go on meanwhile.
		var wg sync.WaitGroup
		var queries, sqls []int
		var mu sync.Mutex
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range writes {
				s.f.Apply(t, writes[i])
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				resp, err := http.Get(s.url + "/v1/query?subject=Tesla_Inc&predicate=has_revenue&lens=Consensus")
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				ans := s.sql("SELECT count(*) FROM resolved_consensus")
				mu.Lock()
				queries, sqls = append(queries, resp.StatusCode), append(sqls, ans.Status)
				mu.Unlock()
			}
		}()
		wg.Wait()
		select {
		case ans := <-bombDone:
			t.Fatalf("the bomb ended before the load did: %d %s", ans.Status, ans.Body)
		default:
		}
		for i := range queries {
			assert.Equal(t, 200, queries[i], "query API")
			assert.Equal(t, 200, sqls[i], "concurrent SQL")
		}
		ans := <-bombDone
		assert.Equal(t, 400, ans.Status)
		assert.Equal(t, "sql_timeout", ans.code())

		for i := range writes {
			twin.Apply(t, writes[i])
		}
		assert.Equal(t, twin.State(t), s.f.State(t), "data and schema intact")
	})

	assert.Equal(t, files, s.f.Files(t), "no file appeared in the data directory")
}

// loadRecords returns n new assertions for load during an attack.
func loadRecords(n int) []assertion.Record {
	out := make([]assertion.Record, n)
	for i := range out {
		out[i] = readonlytest.Assert(readonlytest.Number(fmt.Sprintf("Load_%02d", i), "has_revenue", float64(i), 0.5),
			readonlytest.T0+1000+uint64(i), "alice")
	}
	return out
}
