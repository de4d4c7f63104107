package sqlview

import (
	"context"
	"fmt"

	"github.com/stemedb/stemedb/assertion"
)

// ReplaceResolved makes winners (in the lens's order; rank 1 first) the `resolved` rows
// of lens for group g, writing only the ranks whose winner changed and deleting the
// ranks past the new last one: six lenses per dirty group make write amplification the
// materializer's main cost. lens is the lens's canonical name. Every winner must be one
// of g's candidates (ErrNotCandidate otherwise: the lens returned garbage). It reports
// whether any row changed.
func ReplaceResolved(ctx context.Context, tx *Tx, lens string, g *Group, winners []assertion.Hash) (bool, error) {
	ids := make([]int64, len(winners))
	var byHash map[assertion.Hash]int64
	if len(winners) > 4 && len(g.Candidates) > 16 {
		byHash = make(map[assertion.Hash]int64, len(g.Candidates))
		for _, c := range g.Candidates {
			byHash[c.Hash] = c.ID
		}
	}
	for i, w := range winners {
		id, ok := byHash[w]
		for j := 0; byHash == nil && j < len(g.Candidates); j++ {
			if c := &g.Candidates[j]; c.Hash == w {
				id, ok = c.ID, true
				break
			}
		}
		if !ok {
			return false, fmt.Errorf("replace resolved %s of group %d: %s: %w", lens, g.ID, w, ErrNotCandidate)
		}
		ids[i] = id
	}
	lid, err := tx.lensID(ctx, lens)
	if err != nil {
		return false, fmt.Errorf("replace resolved %s: %w", lens, err)
	}
	changed, err := replaceResolved(ctx, tx, lid, g.ID, ids)
	if err != nil {
		return false, fmt.Errorf("replace resolved %s of group %d: %w", lens, g.ID, err)
	}
	return changed, nil
}

func replaceResolved(ctx context.Context, tx *Tx, lens, group int64, ids []int64) (bool, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT assertion_id FROM resolved_rows WHERE lens_id = ?1 AND group_id = ?2 ORDER BY rank`, lens, group)
	if err != nil {
		return false, err
	}
	var cur []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, err
		}
		cur = append(cur, id)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return false, err
	}
	rows.Close()

	return writeResolvedDiff(ctx, tx, lens, group, cur, ids)
}

// DeleteResolved removes every `resolved` row of lens (e.g. when the lens is deleted).
func DeleteResolved(ctx context.Context, tx *Tx, lens string) error {
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM resolved_rows WHERE lens_id = (SELECT id FROM lens_names WHERE name = ?1)`, lens); err != nil {
		return fmt.Errorf("delete resolved %s: %w", lens, err)
	}
	return nil
}

// lensID returns the lens_names id of lens, adding the name if needed. Ids are cached
// on the DB (writer goroutine only) once the transaction that made them commits.
func (t *Tx) lensID(ctx context.Context, lens string) (int64, error) {
	if id, ok := t.db.lensIDs[lens]; ok {
		return id, nil
	}
	if id, ok := t.lenses[lens]; ok {
		return id, nil
	}
	res, err := t.ExecContext(ctx, `INSERT INTO lens_names (name) VALUES (?1) ON CONFLICT DO NOTHING`, lens)
	if err != nil {
		return 0, err
	}
	var id int64
	if ok, err := inserted(res); err != nil {
		return 0, err
	} else if ok {
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	} else if err := t.QueryRowContext(ctx, `SELECT id FROM lens_names WHERE name = ?1`, lens).Scan(&id); err != nil {
		return 0, err
	}
	if t.lenses == nil {
		t.lenses = make(map[string]int64)
		t.OnCommit(func() {
			for k, v := range t.lenses {
				t.db.lensIDs[k] = v
			}
		})
	}
	t.lenses[lens] = id
	return id, nil
}
