package node_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/sqlview"
)

// An upload of a materialized lens records the backfill it needs before the registry
// installs it, so that a process stopping before lensSync starts that backfill resumes
// it after a restart rather than taking the lens's rows as complete. No lensSync runs
// here: what the test sees is the upload's own record.
func TestUpload_RecordsItsBackfillBeforeInstalling(t *testing.T) {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithInterpreter(true))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	reg, err := plugins.Open(ctx, t.TempDir(), rt, plugins.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, reg.Close(ctx)) })
	views, err := sqlview.Open(ctx, filepath.Join(t.TempDir(), "views.sqlite"), sqlview.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, views.Close()) })
	up := node.RecordedUploads(reg, views)
	wasm := module(t, soloLens)
	cursors := func() map[string]int64 {
		c, err := sqlview.BackfillCursors(ctx, views.ReadDB())
		require.NoError(t, err)
		return c
	}
	setCursor := func(lens string, after int64) {
		require.NoError(t, views.Write(ctx, func(tx *sqlview.Tx) error {
			return sqlview.SetBackfillCursor(ctx, tx, lens, after)
		}))
	}

	_, err = up.Upload(ctx, "Solo", wasm, true)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"Solo": 0}, cursors(), "recorded, at the start")

	// A re-upload in another spelling goes under the canonical name and keeps the
	// progress of a backfill already recorded (the new one restarts it anyway).
	setCursor("Solo", 7)
	_, err = up.Upload(ctx, "solo", wasm, true)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"Solo": 7}, cursors())

	// Not materialized: no rows, no backfill.
	_, err = up.Upload(ctx, "Quiet", wasm, false)
	require.NoError(t, err)
	require.NotContains(t, cursors(), "Quiet")

	// Refused under a new name: the record is taken back.
	_, err = up.Upload(ctx, "Broken", []byte("not a module"), true)
	require.ErrorIs(t, err, host.ErrInvalidModule)
	require.NotContains(t, cursors(), "Broken")

	// Refused under an existing name: a record that was there stays as it was.
	_, err = up.Upload(ctx, "Solo", []byte("not a module"), true)
	require.ErrorIs(t, err, host.ErrInvalidModule)
	require.Equal(t, map[string]int64{"Solo": 7}, cursors())
}
