package sqlview

import (
	"context"
	"time"
)

// walHardLimitPages is the WAL length (in pages) beyond which the checkpointer asks for
// a RESTART checkpoint, which waits (up to busy_timeout) for readers to leave the old
// WAL so that it can start over. Below it, checkpoints are PASSIVE and never block
// anyone. 1 GiB of 4 KiB pages.
const walHardLimitPages = 1 << 18

// checkpointLoop copies the WAL back into the database file in the background, on its
// own connection, so that the writer never pays for a checkpoint inside a commit.
//
// Why not SQLite's wal_autocheckpoint on the writer: it runs the checkpoint inside the
// commit that crosses the threshold, stalling ingest for the whole copy, and with the
// default 1000 pages it checkpoints almost every ingest batch, writing each hot index
// page once per batch, and no commit waits for a copy. On the ingest benchmark (300k
// distinct assertions, best of two runs on a shared 2-core machine) it measured from
// on par to a third faster than a 16k-page wal_autocheckpoint, depending on the batch
// size (small batches gain most).
//
// A checkpoint is not a logical write, so this does not break the one-writer rule:
// it changes no rows, and SQLite lets it run alongside the writer.
func (db *DB) checkpointLoop() {
	defer db.wg.Done()
	var last time.Time
	for {
		select {
		case <-db.closing:
			return
		case <-db.kick:
		}
		if wait := db.opts.CheckpointInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-db.closing:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		db.checkpoint("PASSIVE")
	}
}

func (db *DB) checkpoint(mode string) {
	var busy, logPages, done int
	err := db.ck.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").
		Scan(&busy, &logPages, &done)
	if err != nil {
		db.opts.Logger.Warn("sqlview: checkpoint", "mode", mode, "err", err)
		return
	}
	if mode == "PASSIVE" && logPages > walHardLimitPages {
		db.checkpoint("RESTART")
	}
}
