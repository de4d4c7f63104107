package sqlview

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stemedb/stemedb/assertion"
)

// Group is one (subject, predicate) and its candidates: the non-retracted assertions a
// lens chooses from. It has the shape of host.Group, plus the ids that ReplaceResolved
// needs.
type Group struct {
	ID         int64 // claim_groups.id
	Subject    string
	Predicate  string
	Candidates []Candidate // in the order the log first wrote them
}

// Candidate is one non-retracted assertion of a group (host.Candidate, plus its row id).
type Candidate struct {
	ID         int64 // assertion_rows.id
	Hash       assertion.Hash
	Object     []byte // tag byte + canonical value bytes: equal bytes mean the same object
	Confidence float64
	Signers    []Signer // current signers, by agent id
	Up, Down   uint32   // counted votes
}

// Signer is a current signer of a candidate (host.Signer).
type Signer struct {
	Agent     assertion.AgentID
	Timestamp uint64  // Unix seconds of the agent's stored signature
	Trust     float64 // agents.trust; 1.0 unless set
}

// DirtyGroup is a group whose candidates changed since it was last materialized.
type DirtyGroup struct {
	ID     int64
	Since  uint64 // the ingested offset before its first unmaterialized change
	Offset uint64 // the end of the record of its latest change
}

// DirtyGroups returns up to limit dirty groups, by id.
func DirtyGroups(ctx context.Context, q Querier, limit int) ([]DirtyGroup, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT group_id, since, "offset" FROM dirty_groups ORDER BY group_id LIMIT ?1`, limit)
	if err != nil {
		return nil, fmt.Errorf("dirty groups: %w", err)
	}
	defer rows.Close()
	var out []DirtyGroup
	for rows.Next() {
		var d DirtyGroup
		var since, off int64
		if err := rows.Scan(&d.ID, &since, &off); err != nil {
			return nil, fmt.Errorf("dirty groups: %w", err)
		}
		d.Since, d.Offset = uint64(since), uint64(off)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dirty groups: %w", err)
	}
	return out, nil
}

// ClearDirty removes the dirty marks of groups, each only if no change came after the
// one it was read with (its Offset): a group changed again stays dirty.
func ClearDirty(ctx context.Context, tx *Tx, groups []DirtyGroup) error {
	for _, d := range groups {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM dirty_groups WHERE group_id = ?1 AND "offset" <= ?2`, d.ID, int64(d.Offset)); err != nil {
			return fmt.Errorf("clear dirty group %d: %w", d.ID, err)
		}
	}
	return nil
}

// CleanThrough returns the log offset through which no group is dirty: the smallest
// Since of the dirty groups, or the ingested offset when none is dirty. Called in the
// materializer's write transaction after ClearDirty, it is the offset to record with
// SetMaterializedOffset.
func CleanThrough(ctx context.Context, q Querier) (uint64, error) {
	var off int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT min(since) FROM dirty_groups),
		(SELECT value FROM state WHERE key = 'ingested_offset'))`).Scan(&off)
	if err != nil {
		return 0, fmt.Errorf("clean through: %w", err)
	}
	return uint64(off), nil
}

// FindGroup returns the id of the group (subject, predicate), if it was ever seen.
func FindGroup(ctx context.Context, q Querier, subject, predicate string) (int64, bool, error) {
	var id int64
	err := q.QueryRowContext(ctx, sqlSelectGroup, subject, predicate).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find group: %w", err)
	}
	return id, true, nil
}

// ListGroups returns up to limit group ids greater than after, in order: the way to
// walk every group (e.g. to materialize a newly uploaded lens).
func ListGroups(ctx context.Context, q Querier, after int64, limit int) ([]int64, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id FROM claim_groups WHERE id > ?1 ORDER BY id LIMIT ?2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return ids, nil
}

// LoadGroups loads the groups with the given ids and their candidates (non-retracted
// assertions with their current signers, agent trust and counted votes) in three
// statements, whatever the number of groups. Groups come back in the order of ids;
// unknown ids are left out. Run it in one read transaction (or the write transaction)
// so that the three statements see one snapshot.
func LoadGroups(ctx context.Context, q Querier, ids []int64) ([]Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := jsonIntList(ids)
	groups := make([]Group, 0, len(ids))
	gIndex := make(map[int64]int, len(ids))

	rows, err := q.QueryContext(ctx, `SELECT g.id, g.subject, g.predicate
		FROM json_each(?1) AS j CROSS JOIN claim_groups AS g ON g.id = j.value ORDER BY j.key`, list)
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.Subject, &g.Predicate); err != nil {
			return nil, fmt.Errorf("load groups: %w", err)
		}
		if _, dup := gIndex[g.ID]; dup {
			continue
		}
		gIndex[g.ID] = len(groups)
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	rows.Close()

	// Candidates, with their vote counts.
	type at struct{ g, c int }
	where := make(map[int64]at)
	rows, err = q.QueryContext(ctx, `SELECT a.group_id, a.id, a.hash, a.object_type, a.object_value, a.confidence,
			(SELECT count(*) FROM vote_acts AS v WHERE v.assertion_id = a.id AND v.vote > 0),
			(SELECT count(*) FROM vote_acts AS v WHERE v.assertion_id = a.id AND v.vote < 0)
		FROM json_each(?1) AS j
		CROSS JOIN assertion_rows AS a ON a.group_id = j.value AND a.retracted = 0
		ORDER BY a.group_id, a.id`, list)
	if err != nil {
		return nil, fmt.Errorf("load candidates: %w", err)
	}
	defer rows.Close()
	var buf []byte
	for rows.Next() {
		var (
			gid, up, down int64
			hash, typ     string
			value         any
			c             Candidate
		)
		if err := rows.Scan(&gid, &c.ID, &hash, &typ, &value, &c.Confidence, &up, &down); err != nil {
			return nil, fmt.Errorf("load candidates: %w", err)
		}
		gi, ok := gIndex[gid]
		if !ok {
			continue
		}
		if c.Hash, err = assertion.ParseHash(hash); err != nil {
			return nil, fmt.Errorf("load candidates: stored hash: %w", err)
		}
		o, err := objectFromSQL(typ, value)
		if err != nil {
			return nil, fmt.Errorf("load candidates: %s: %w", hash, err)
		}
		// One backing array for all objects of the call: fewer allocations.
		start := len(buf)
		buf = o.AppendValueBytes(buf)
		c.Object = buf[start:len(buf):len(buf)]
		c.Up, c.Down = uint32(up), uint32(down)
		g := &groups[gi]
		where[c.ID] = at{gi, len(g.Candidates)}
		g.Candidates = append(g.Candidates, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load candidates: %w", err)
	}
	rows.Close()

	// Current signers of those candidates.
	rows, err = q.QueryContext(ctx, `SELECT s.assertion_id, ag.agent_id, ag.trust, s."timestamp"
		FROM json_each(?1) AS j
		CROSS JOIN assertion_rows AS a ON a.group_id = j.value AND a.retracted = 0
		CROSS JOIN sign_acts AS s ON s.assertion_id = a.id AND s.retract = 0
		CROSS JOIN agent_rows AS ag ON ag.id = s.agent
		ORDER BY s.assertion_id, ag.agent_id`, list)
	if err != nil {
		return nil, fmt.Errorf("load signers: %w", err)
	}
	defer rows.Close()
	agents := make(map[string]assertion.AgentID)
	for rows.Next() {
		var (
			id, ts int64
			agent  string
			s      Signer
		)
		if err := rows.Scan(&id, &agent, &s.Trust, &ts); err != nil {
			return nil, fmt.Errorf("load signers: %w", err)
		}
		w, ok := where[id]
		if !ok {
			continue
		}
		if s.Agent, ok = agents[agent]; !ok {
			if s.Agent, err = assertion.ParseAgentID(agent); err != nil {
				return nil, fmt.Errorf("load signers: stored agent id: %w", err)
			}
			agents[agent] = s.Agent
		}
		s.Timestamp = uint64(ts)
		c := &groups[w.g].Candidates[w.c]
		c.Signers = append(c.Signers, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load signers: %w", err)
	}
	return groups, nil
}
