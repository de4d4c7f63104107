// Package sqlviewtest holds helpers for tests that inspect StemeDB's SQLite views:
// reading whole query results to compare databases.
package sqlviewtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview"
)

// Rows runs query on q and returns every row, each value as the driver scanned it
// (int64, float64, string, []byte or nil), failing the test on any error.
func Rows(t testing.TB, q sqlview.Querier, query string, args ...any) [][]any {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		out = append(out, vals)
	}
	require.NoError(t, rows.Err())
	return out
}
