package node

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/sqlview"
)

// recordedUploads is the lens registry as the server sees it, with one step before an
// upload of a materialized lens: the backfill the new version will need is recorded in
// the views first. lensSync starts that backfill only after the registry announces the
// version, so a process that stopped in between used to restart with the lens's rows
// taken as complete (lens_rows.go); with the record, its backfill resumes from the
// start instead. The record only covers a process that stops: the views commit with
// synchronous=NORMAL, so a power cut may lose it while the registry keeps the upload.
type recordedUploads struct {
	*plugins.Registry
	views *sqlview.DB
	log   *slog.Logger
}

// Upload implements server.LensRegistry.
func (u recordedUploads) Upload(ctx context.Context, name string, wasm []byte, materialized bool) (plugins.Info, error) {
	if !materialized {
		return u.Registry.Upload(ctx, name, wasm, materialized)
	}
	// The materializer knows a lens by its canonical name, the first upload's spelling.
	canonical := name
	if c, ok := u.Registry.Canonical(name); ok {
		canonical = c
	}
	var added bool
	if err := u.views.Write(ctx, func(tx *sqlview.Tx) error {
		var err error
		added, err = sqlview.AddBackfillCursor(ctx, tx, canonical)
		return err
	}); err != nil {
		return plugins.Info{}, fmt.Errorf("upload lens %q: record its backfill: %w", name, err)
	}
	info, err := u.Registry.Upload(ctx, name, wasm, materialized)
	// The version may be installed by now: what follows must not stop with the caller.
	wctx := context.WithoutCancel(ctx)
	if err == nil && info.Name != canonical {
		// A deleted lens's name in another spelling: the registry kept the first
		// spelling, which Canonical does not give for a deleted lens. Move the record.
		if werr := u.views.Write(wctx, func(tx *sqlview.Tx) error {
			if added {
				if err := sqlview.DeleteBackfillCursor(wctx, tx, canonical); err != nil {
					return err
				}
			}
			_, err := sqlview.AddBackfillCursor(wctx, tx, info.Name)
			return err
		}); werr != nil {
			u.log.Warn("recording a lens's backfill", "lens", info.Name, "err", werr)
		}
	}
	if err != nil && added {
		// Nothing was installed. If no lens has the name either, no backfill can own the
		// record: take it back. Otherwise leave it; the worst it costs is one backfill
		// of the live version after a restart, where deleting it could drop the record
		// of a backfill that a concurrent upload started meanwhile.
		if _, exists := u.Registry.Canonical(canonical); !exists {
			if derr := u.views.Write(wctx, func(tx *sqlview.Tx) error {
				return sqlview.DeleteBackfillCursor(wctx, tx, canonical)
			}); derr != nil {
				return plugins.Info{}, fmt.Errorf("%w (and taking back its backfill record: %w)", err, derr)
			}
		}
	}
	return info, err
}
