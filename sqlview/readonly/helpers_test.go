package readonly_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/sqlview/readonly/readonlytest"
)

// seeded returns a fixture with the seeded scenario and a read-only DB on it.
func seeded(t *testing.T, opts readonly.Options) (*readonlytest.Fixture, *readonly.DB) {
	t.Helper()
	f := readonlytest.New(t)
	f.Seed(t)
	return f, openRO(t, f, opts)
}

func openRO(t *testing.T, f *readonlytest.Fixture, opts readonly.Options) *readonly.DB {
	t.Helper()
	db, err := readonly.Open(context.Background(), f.Path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// query runs sql and returns its result, or the error.
func query(t *testing.T, db *readonly.DB, sql string, args ...any) (*readonly.Result, error) {
	t.Helper()
	return db.QueryAll(context.Background(), readonly.Request{SQL: sql, Args: args})
}
