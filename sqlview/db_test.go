package sqlview_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview"
)

func TestOpen_Pragmas(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	var mode string
	require.NoError(t, db.ReadDB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	var busy int
	require.NoError(t, db.ReadDB().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
	require.Equal(t, int(sqlview.DefaultBusyTimeout.Milliseconds()), busy)

	// The writer's own settings, seen from inside a write transaction.
	err := db.Write(ctx, func(tx *sqlview.Tx) error {
		var sync, cache int
		require.NoError(t, tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		require.Equal(t, 1, sync, "NORMAL")
		require.NoError(t, tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache))
		require.Equal(t, -sqlview.DefaultWriterCacheKiB, cache)
		return nil
	})
	require.NoError(t, err)
}

func TestOpen_ReadPoolIsQueryOnly(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	_, err := db.ReadDB().Exec(`UPDATE state SET value = 7 WHERE key = 'assertion_count'`)
	require.Error(t, err)
	_, err = db.ReadDB().Exec(`CREATE TABLE x (a)`)
	require.Error(t, err)
}

func TestOpen_ReopenIsNoop(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stemedb.sqlite")
	db, err := sqlview.Open(ctx, path, sqlview.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE state SET value = 42 WHERE key = 'ingested_offset'`)
		return err
	}))
	require.NoError(t, db.Close())

	db, err = sqlview.Open(ctx, path, sqlview.Options{})
	require.NoError(t, err)
	defer db.Close()
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(42), st.IngestedOffset, "reopen must not re-run migrations")
	var v int
	require.NoError(t, db.ReadDB().QueryRow("PRAGMA user_version").Scan(&v))
	require.Equal(t, sqlview.SchemaVersion(), v)
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stemedb.sqlite")
	db, err := sqlview.Open(ctx, path, sqlview.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = raw.Exec("PRAGMA user_version = 999")
	require.NoError(t, err)
	require.NoError(t, raw.Close())

	_, err = sqlview.Open(ctx, path, sqlview.Options{})
	require.ErrorIs(t, err, sqlview.ErrSchemaTooNew)
	require.Contains(t, err.Error(), "999")
}

// TestSchema_PinnedColumns checks the queryable names and columns of API.md §6.
func TestSchema_PinnedColumns(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	for table, want := range map[string][]string{
		"assertions": {"hash", "subject", "predicate", "object_type", "object_value", "confidence", "source_hash", "retracted", "offset"},
		"signatures": {"assertion_hash", "agent_id", "signature", "timestamp"},
		"votes":      {"assertion_hash", "agent_id", "vote", "timestamp"},
		"agents":     {"agent_id", "trust"},
		"resolved":   {"lens", "subject", "predicate", "assertion_hash", "rank"},
	} {
		rows := dump(t, db, `SELECT name FROM pragma_table_info(?)`, table)
		var got []string
		for _, r := range rows {
			got = append(got, r[0].(string))
		}
		require.Subset(t, got, want, table)
		require.Equal(t, want, got[:len(want)], "%s: pinned columns come first, in order", table)
	}
	// offset is a keyword that SQLite also accepts as a name.
	_ = dump(t, db, `SELECT offset, hash FROM assertions WHERE offset > 0`)
}

func TestWrite_RollbackAndPanic(t *testing.T) {
	db := openDB(t, sqlview.Options{})
	ctx := context.Background()
	committed := false
	err := db.Write(ctx, func(tx *sqlview.Tx) error {
		tx.OnCommit(func() { committed = true })
		if _, err := tx.ExecContext(ctx, `UPDATE state SET value = 5 WHERE key = 'ingested_offset'`); err != nil {
			return err
		}
		return context.Canceled
	})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, committed)
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Zero(t, st.IngestedOffset)

	require.PanicsWithValue(t, "boom", func() {
		_ = db.Write(ctx, func(tx *sqlview.Tx) error {
			_, _ = tx.ExecContext(ctx, `UPDATE state SET value = 6 WHERE key = 'ingested_offset'`)
			panic("boom")
		})
	})
	st, err = db.State(ctx)
	require.NoError(t, err)
	require.Zero(t, st.IngestedOffset)

	// The writer still works.
	require.NoError(t, db.Write(ctx, func(tx *sqlview.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE state SET value = 7 WHERE key = 'ingested_offset'`)
		return err
	}))
	st, err = db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(7), st.IngestedOffset)
}

func TestWrite_AfterClose(t *testing.T) {
	db, err := sqlview.Open(context.Background(), filepath.Join(t.TempDir(), "x.sqlite"), sqlview.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close())
	err = db.Write(context.Background(), func(*sqlview.Tx) error { return nil })
	require.ErrorIs(t, err, sqlview.ErrClosed)
}
