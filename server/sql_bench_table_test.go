//go:build bench

package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/sqlview/readonly/readonlytest"
)

// TestBenchTableSQL prints what /v1/sql costs over the same statement run through the Go
// driver directly, on a database of 1M assertions (STEMEDB_BENCH_N to change it):
//
//	go test -tags bench -run TestBenchTableSQL -v ./server/
//
// "driver" is a plain database/sql pool on the file scanning every row into []any;
// "readonly" adds the guard, the request-scoped authorizer, limits, deadline and caps;
// "HTTP" adds JSON decoding and encoding and a loopback round trip. The target is HTTP
// at most 1.2x the driver on the aggregation.
func TestBenchTableSQL(t *testing.T) {
	n := 1_000_000
	if v := os.Getenv("STEMEDB_BENCH_N"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	ctx := context.Background()
	f := readonlytest.New(t)
	start := time.Now()
	f.Bulk(t, n)
	t.Logf("built %d assertions in %v", n, time.Since(start).Round(time.Millisecond))

	ro, err := readonly.Open(ctx, f.Path, readonly.Options{Timeout: time.Minute, Concurrency: 1})
	require.NoError(t, err)
	defer ro.Close()
	url := serveSQL(t, ro, nil) + "/v1/sql"
	direct, err := sql.Open("sqlite", "file:"+f.Path+"?mode=ro")
	require.NoError(t, err)
	defer direct.Close()
	direct.SetMaxOpenConns(1)

	hash := fmt.Sprintf("%064x", n/2)
	cases := []struct {
		name string
		sql  string
		args []any
		iter int
	}{
		{"point lookup by hash", "SELECT * FROM assertions WHERE hash = ?", []any{hash}, 2000},
		{"GROUP BY over all assertions", "SELECT predicate, count(*), avg(confidence), max(object_value) FROM assertions GROUP BY predicate", nil, 5},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "statement (%d assertions)\tdriver\treadonly\tHTTP\tHTTP/driver\t\n", n)
	for _, c := range cases {
		body, err := json.Marshal(map[string]any{"sql": c.sql, "params": c.args})
		require.NoError(t, err)
		run := map[string]func() int{
			"driver": func() int {
				rows, err := direct.QueryContext(ctx, c.sql, c.args...)
				require.NoError(t, err)
				defer rows.Close()
				cols, _ := rows.Columns()
				vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				count := 0
				for rows.Next() {
					require.NoError(t, rows.Scan(ptrs...))
					count++
				}
				require.NoError(t, rows.Err())
				return count
			},
			"readonly": func() int {
				res, err := ro.QueryAll(ctx, readonly.Request{SQL: c.sql, Args: c.args})
				require.NoError(t, err)
				return len(res.Rows)
			},
			"HTTP": func() int {
				resp, err := http.Post(url, "application/json", bytes.NewReader(body))
				require.NoError(t, err)
				defer resp.Body.Close()
				data, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s", data)
				return bytes.Count(data, []byte("],["))
			},
		}
		per := map[string]time.Duration{}
		for _, name := range []string{"driver", "readonly", "HTTP", "driver", "readonly", "HTTP"} {
			run[name]() // warm up (and the second round is the one measured)
			start := time.Now()
			for range c.iter {
				run[name]()
			}
			per[name] = time.Since(start) / time.Duration(c.iter)
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\t%.2fx\t\n", c.name, per["driver"].Round(time.Microsecond),
			per["readonly"].Round(time.Microsecond), per["HTTP"].Round(time.Microsecond),
			float64(per["HTTP"])/float64(per["driver"]))
	}
	require.NoError(t, tw.Flush())
}
