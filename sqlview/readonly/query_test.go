package readonly_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/sqlview/readonly/readonlytest"
)

func TestQuery_Types(t *testing.T) {
	_, db := seeded(t, readonly.Options{})
	res, err := query(t, db, "SELECT 42, 1.5, 2.0, 'text', x'00ff', NULL, 9223372036854775807")
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int64(42), 1.5, 2.0, "text", []byte{0, 0xff}, nil, int64(9223372036854775807)}}, res.Rows)
	assert.False(t, res.Truncated)

	// object_value keeps its storage class per object type (API.md §6).
	res, err = query(t, db, `SELECT object_type, typeof(object_value) FROM assertions
		WHERE subject = 'Tesla_Inc' GROUP BY object_type ORDER BY object_type`)
	require.NoError(t, err)
	assert.Equal(t, [][]any{
		{"Boolean", "integer"}, {"Entity", "text"}, {"Json", "text"}, {"Number", "real"}, {"Time", "text"},
	}, res.Rows)
}

func TestQuery_Params(t *testing.T) {
	_, db := seeded(t, readonly.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		req  readonly.Request
		want [][]any
		err  error
	}{
		{"positional", readonly.Request{SQL: "SELECT ?, ?2, ?1", Args: []any{int64(1), "two"}},
			[][]any{{int64(1), "two", int64(1)}}, nil},
		{"named with and without prefix", readonly.Request{SQL: "SELECT :a, @b, $c",
			Named: map[string]any{"a": 1.5, ":b": nil, "$c": []byte{1}}}, [][]any{{1.5, nil, []byte{1}}}, nil},
		{"bool binds as integer", readonly.Request{SQL: "SELECT ?, ?", Args: []any{true, false}},
			[][]any{{int64(1), int64(0)}}, nil},
		{"filter", readonly.Request{SQL: "SELECT count(*) FROM assertions WHERE subject = :s AND predicate = :p",
			Named: map[string]any{"s": "Tesla_Inc", "p": "has_revenue"}}, [][]any{{int64(2)}}, nil},
		{"missing", readonly.Request{SQL: "SELECT ?, ?", Args: []any{int64(1)}}, nil, readonly.ErrSQL},
		{"missing named", readonly.Request{SQL: "SELECT :x"}, nil, readonly.ErrSQL},
		{"bad name", readonly.Request{SQL: "SELECT :x", Named: map[string]any{"1x": int64(1)}}, nil, readonly.ErrSQL},
		{"bad type", readonly.Request{SQL: "SELECT ?", Args: []any{[]string{"x"}}}, nil, readonly.ErrSQL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := db.QueryAll(ctx, tt.req)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Rows)
		})
	}
}

func TestQuery_RowCap(t *testing.T) {
	_, db := seeded(t, readonly.Options{MaxRows: 10, HardMaxRows: 50})
	ctx := context.Background()
	series := "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < %d) SELECT n FROM c"
	tests := []struct {
		rows, maxRows int
		wantRows      int
		truncated     bool
	}{
		{9, 0, 9, false},
		{10, 0, 10, false}, // exactly the cap: nothing more existed
		{11, 0, 10, true},
		{1000, 0, 10, true},
		{30, 30, 30, false},
		{31, 30, 30, true},
		{3, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_rows_cap_%d", tt.rows, tt.maxRows), func(t *testing.T) {
			res, err := db.QueryAll(ctx, readonly.Request{SQL: fmt.Sprintf(series, tt.rows), MaxRows: tt.maxRows})
			require.NoError(t, err)
			assert.Len(t, res.Rows, tt.wantRows)
			assert.Equal(t, tt.truncated, res.Truncated)
		})
	}
	_, err := db.QueryAll(ctx, readonly.Request{SQL: "SELECT 1", MaxRows: 51})
	require.ErrorIs(t, err, readonly.ErrSQL, "above the hard maximum")
}

func TestQuery_ByteCap(t *testing.T) {
	_, db := seeded(t, readonly.Options{MaxBytes: 1000})
	res, err := query(t, db, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 50) SELECT printf('%097d', n) FROM c")
	require.NoError(t, err)
	assert.True(t, res.Truncated)
	assert.Len(t, res.Rows, 10, "ten rows of about 100 bytes fit in 1000")
}

// bomb is a recursive CTE that counts to a trillion: minutes of work.
const bomb = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000000) SELECT count(*) FROM c"

func TestDeadline(t *testing.T) {
	const limit = 150 * time.Millisecond
	_, db := seeded(t, readonly.Options{Timeout: limit})
	tests := []struct{ name, sql string }{
		{"first step", bomb},
		// The first row comes at once; the bomb runs in the second step, after the
		// driver stopped watching the context (interrupt.go).
		{"after first row", "SELECT 1 UNION ALL SELECT * FROM (" + bomb + ")"},
		{"streaming rows", "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c WHERE n % 100000000 = 0"},
		{"sort", "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) SELECT n FROM c ORDER BY random() LIMIT 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := query(t, db, tt.sql)
			took := time.Since(start)
			require.ErrorIs(t, err, readonly.ErrTimeout)
			assert.Less(t, took, limit+time.Second, "interrupted soon after the deadline")
			t.Logf("stopped after %v (limit %v)", took, limit)
			res, err := query(t, db, "SELECT count(*) FROM assertions")
			require.NoError(t, err, "the pool still serves")
			assert.NotEqual(t, int64(0), res.Rows[0][0])
		})
	}
}

func TestQuery_CallerCancels(t *testing.T) {
	_, db := seeded(t, readonly.Options{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	sink := &signalSink{rows: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() {
		_, err := db.Query(ctx, readonly.Request{SQL: "SELECT 1 UNION ALL SELECT * FROM (" + bomb + ")"}, sink)
		done <- err
	}()
	select {
	case <-sink.rows: // the first row arrived; the bomb runs now
	case err := <-done:
		t.Fatalf("the statement ended before its first row: %v", err)
	}
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled, "not a timeout: the caller went away")
	assert.False(t, errors.Is(err, readonly.ErrTimeout))
}

// signalSink reports each row on rows and, if hold is set, blocks in Row until it is
// closed.
type signalSink struct {
	rows chan struct{}
	hold chan struct{}
}

func (s *signalSink) Columns([]string) error { return nil }
func (s *signalSink) Row([]any) error {
	select {
	case s.rows <- struct{}{}:
	default:
	}
	if s.hold != nil {
		<-s.hold
	}
	return nil
}

func TestQuery_Semaphore(t *testing.T) {
	_, db := seeded(t, readonly.Options{Concurrency: 1, QueueWait: 20 * time.Millisecond, Timeout: time.Minute})
	ctx := context.Background()
	hold := &signalSink{rows: make(chan struct{}, 1), hold: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := db.Query(ctx, readonly.Request{SQL: "SELECT 1"}, hold)
		done <- err
	}()
	select {
	case <-hold.rows: // the only slot is taken
	case err := <-done:
		t.Fatalf("the first statement ended early: %v", err)
	}
	_, err := query(t, db, "SELECT 2")
	require.ErrorIs(t, err, readonly.ErrBusy)
	close(hold.hold)
	require.NoError(t, <-done)
	_, err = query(t, db, "SELECT 2")
	require.NoError(t, err, "the slot is free again")
}

func TestQuery_Errors(t *testing.T) {
	_, db := seeded(t, readonly.Options{})
	tests := []struct {
		sql  string
		kind error
		msg  string
	}{
		{"SELEC 1", readonly.ErrSQL, "a statement must start with"},
		{"SELECT FROM", readonly.ErrSQL, "syntax error"},
		{"SELECT * FROM nowhere", readonly.ErrSQL, "no such table: nowhere"},
		{"SELECT nope FROM assertions", readonly.ErrSQL, "no such column: nope"},
		{"SELECT randomblob(2e9)", readonly.ErrSQL, "too big"},
		{"SELECT 1; SELECT 2", readonly.ErrSQL, "2 statements"},
		{"SELECT load_extension('x')", readonly.ErrForbidden, "function load_extension() is not allowed"},
		{"SELECT * FROM dirty_groups", readonly.ErrForbidden, "reading dirty_groups is not allowed"},
		{"WITH x AS (SELECT 1) DELETE FROM state", readonly.ErrForbidden, "not allowed"},
		{"SELECT * FROM pragma_table_info('state')", readonly.ErrForbidden, "not a queryable"},
		{"PRAGMA query_only = 0", readonly.ErrForbidden, "PRAGMA statements are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := query(t, db, tt.sql)
			require.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

// TestLensViews: one view per lens, and the lenses disagree on Tesla's revenue.
func TestLensViews(t *testing.T) {
	_, db := seeded(t, readonly.Options{})
	want := map[string]float64{
		"resolved_latest": 81.5, "resolved_highest_confidence": 81.5, "resolved_consensus": 96.7,
		"resolved_vote_aware_consensus": 81.5, "resolved_trust_weighted": 96.7,
	}
	for view, v := range want {
		res, err := query(t, db, "SELECT object_value FROM "+view+" WHERE subject = ? AND predicate = ?", "Tesla_Inc", "has_revenue")
		require.NoError(t, err, view)
		assert.Equal(t, [][]any{{v}}, res.Rows, view)
	}
	res, err := query(t, db, "SELECT rank, object_value FROM resolved_all WHERE subject = 'Tesla_Inc' AND predicate = 'has_revenue' ORDER BY rank")
	require.NoError(t, err)
	assert.Equal(t, [][]any{{int64(1), 81.5}, {int64(2), 96.7}}, res.Rows)
}

func TestOpen(t *testing.T) {
	t.Run("missing file is not created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "none.sqlite")
		_, err := readonly.Open(context.Background(), path, readonly.Options{})
		require.Error(t, err)
		_, statErr := os.Stat(path)
		assert.True(t, os.IsNotExist(statErr))
	})
	t.Run("options", func(t *testing.T) {
		f := readonlytest.New(t)
		for _, opts := range []readonly.Options{
			{Lenses: []string{"My-Lens", "my_lens"}},
			{Lenses: []string{"bad name"}},
			{MaxRows: 10, HardMaxRows: 5},
			{Timeout: -1},
		} {
			_, err := readonly.Open(context.Background(), f.Path, opts)
			assert.Error(t, err, "%+v", opts)
		}
	})
	t.Run("closed", func(t *testing.T) {
		f := readonlytest.New(t)
		db, err := readonly.Open(context.Background(), f.Path, readonly.Options{})
		require.NoError(t, err)
		require.NoError(t, db.Close())
		require.NoError(t, db.Close())
		_, err = query(t, db, "SELECT 1")
		require.ErrorIs(t, err, readonly.ErrClosed)
	})
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		v          any
		json, text string
	}{
		{nil, "null", ""},
		{int64(-7), "-7", "-7"},
		{96.7, "96.7", "96.7"},
		{100.0, "100.0", "100.0"},
		{1e21, "1e+21", "1e+21"},
		{1.5e-7, "1.5e-07", "1.5e-07"},
		{"a\"b\\\n\x01é", `"a\"b\\\n\u0001é"`, "a\"b\\\n\x01é"},
		{"\xff", `"` + "\ufffd" + `"`, "\xff"},
		{[]byte{0xde, 0xad}, `"dead"`, "dead"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.json, string(readonly.AppendJSON(nil, tt.v)), "%#v", tt.v)
		assert.Equal(t, tt.text, string(readonly.AppendText(nil, tt.v)), "%#v", tt.v)
	}
	inf := strings.Repeat("9", 1) + "e999"
	_, db := seeded(t, readonly.Options{})
	res, err := query(t, db, "SELECT 1e999, -1e999")
	require.NoError(t, err)
	assert.Equal(t, inf, string(readonly.AppendJSON(nil, res.Rows[0][0])))
	assert.Equal(t, "-"+inf, string(readonly.AppendJSON(nil, res.Rows[0][1])))
}

// failingSink refuses the first row.
type failingSink struct{ err error }

func (s failingSink) Columns([]string) error { return nil }
func (s failingSink) Row([]any) error        { return s.err }

func TestQuery_SinkError(t *testing.T) {
	_, db := seeded(t, readonly.Options{})
	boom := errors.New("client went away")
	_, err := db.Query(context.Background(), readonly.Request{SQL: "SELECT 1"}, failingSink{boom})
	require.ErrorIs(t, err, boom)
	var e *readonly.Error
	assert.False(t, errors.As(err, &e), "not taken for a statement error")
}
