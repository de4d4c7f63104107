package sqlview_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview"
)

func readInt(t *testing.T, db *sqlview.DB, ctx context.Context, query string, arg int) int {
	t.Helper()
	tx, err := db.BeginRead(ctx)
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, query, arg).Scan(&n))
	rows, err := tx.QueryContext(ctx, query, arg)
	require.NoError(t, err)
	require.True(t, rows.Next())
	var m int
	require.NoError(t, rows.Scan(&m))
	require.NoError(t, rows.Close())
	require.Equal(t, n, m, "QueryRowContext and QueryContext agree")
	require.NoError(t, tx.Rollback())
	return n
}

// The first transaction runs a query unprepared and prepares it when it ends; later
// ones reuse that statement, concurrently, on every pooled connection.
func TestReadTx_PreparesOnceThenReuses(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	require.Equal(t, 0, db.PreparedReads())
	require.Equal(t, 42, readInt(t, db, ctx, `SELECT ?1 + 1`, 41))
	require.Equal(t, 1, db.PreparedReads())

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				require.Equal(t, g*100+i+1, readInt(t, db, ctx, `SELECT ?1 + 1`, g*100+i))
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, db.PreparedReads())
}

// A caller whose context has ended by Rollback still leaves the statement prepared.
func TestReadTx_PreparesAfterTheCallersContextEnds(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	tx, err := db.BeginRead(ctx)
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT 7`).Scan(&n))
	cancel()
	tx.Rollback() // the transaction was ended by the cancel already
	require.Equal(t, 1, db.PreparedReads())
	require.ErrorIs(t, tx.Rollback(), sql.ErrTxDone, "a second Rollback only reports")
}

func TestReadTx_BadQueryIsNotCached(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	tx, err := db.BeginRead(ctx)
	require.NoError(t, err)
	var n int
	require.Error(t, tx.QueryRowContext(ctx, `SELECT nope FROM nowhere`).Scan(&n))
	_, err = tx.QueryContext(ctx, `SELEC 1`)
	require.Error(t, err)
	require.NoError(t, tx.Rollback())
	require.Equal(t, 0, db.PreparedReads())
}

// Callers that build ever-new query strings run them unprepared past the bound.
func TestReadTx_CacheIsBounded(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	for i := range sqlview.MaxReadStmts + 20 {
		require.Equal(t, i, readInt(t, db, ctx, fmt.Sprintf(`SELECT ?1 + 0 AS c%d`, i), i))
	}
	require.Equal(t, sqlview.MaxReadStmts, db.PreparedReads())
}

func TestReadTx_AfterClose(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	require.Equal(t, 1, readInt(t, db, ctx, `SELECT ?1`, 1))
	require.NoError(t, db.Close())
	require.Equal(t, 0, db.PreparedReads())
	_, err := db.BeginRead(ctx)
	require.Error(t, err)
}
