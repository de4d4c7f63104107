package sqlview

import (
	"context"
	"fmt"
)

// State is the bookkeeping that GET /v1/status reports (API.md §7).
type State struct {
	// IngestedOffset is the log offset up to which ingest has applied every record to
	// the base tables.
	IngestedOffset uint64
	// MaterializedOffset is the log offset up to which `resolved` reflects every record.
	MaterializedOffset uint64
	// Assertions is the number of assertions, retracted ones included.
	Assertions int64
	// DirtyGroups is the number of (subject, predicate) groups waiting for the
	// materializer.
	DirtyGroups int64
}

// ReadState reads the bookkeeping rows in one statement, so the numbers are from one
// snapshot.
func ReadState(ctx context.Context, q Querier) (State, error) {
	var s State
	var ing, mat int64
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT value FROM state WHERE key = 'ingested_offset'),
		(SELECT value FROM state WHERE key = 'materialized_offset'),
		(SELECT value FROM state WHERE key = 'assertion_count'),
		(SELECT count(*) FROM dirty_groups)`).Scan(&ing, &mat, &s.Assertions, &s.DirtyGroups)
	if err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	s.IngestedOffset, s.MaterializedOffset = uint64(ing), uint64(mat)
	return s, nil
}

// State reads the bookkeeping from the read pool.
func (db *DB) State(ctx context.Context) (State, error) { return ReadState(ctx, db.r) }

// SetMaterializedOffset records, in the materializer's transaction, that `resolved`
// reflects every record up to off. See the package doc for when that is true.
func SetMaterializedOffset(ctx context.Context, tx *Tx, off uint64) error {
	if _, err := tx.ExecContext(ctx,
		`UPDATE state SET value = ? WHERE key = 'materialized_offset'`, int64(off)); err != nil {
		return fmt.Errorf("set materialized offset: %w", err)
	}
	return nil
}

func setIngestedOffset(ctx context.Context, tx *Tx, off uint64, newAssertions int64) error {
	if _, err := tx.ExecContext(ctx,
		`UPDATE state SET value = ? WHERE key = 'ingested_offset'`, int64(off)); err != nil {
		return fmt.Errorf("set ingested offset: %w", err)
	}
	if newAssertions != 0 {
		if _, err := tx.ExecContext(ctx,
			`UPDATE state SET value = value + ? WHERE key = 'assertion_count'`, newAssertions); err != nil {
			return fmt.Errorf("count assertions: %w", err)
		}
	}
	return nil
}
