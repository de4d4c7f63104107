package sqlview

// The statements of Applier. The act upserts carry the combination rules of API.md §1.3
// in their WHERE clauses: an upsert that loses changes nothing and reports no row.

const (
	// ?1 is a JSON array of [group id, offset] pairs. ("WHERE true" tells the parser that
	// ON CONFLICT belongs to the INSERT, not to a join.)
	sqlMarkDirty = `INSERT INTO dirty_groups (group_id, since, "offset")
		SELECT value ->> 0, ?2, value ->> 1 FROM json_each(?1) WHERE true
		ON CONFLICT (group_id) DO UPDATE SET "offset" = excluded."offset"`

	sqlInsertGroup = `INSERT INTO claim_groups (subject, predicate) VALUES (?1, ?2) ON CONFLICT DO NOTHING`
	sqlSelectGroup = `SELECT id FROM claim_groups WHERE subject = ?1 AND predicate = ?2`

	sqlInsertAgent = `INSERT INTO agent_rows (agent_id) VALUES (?1) ON CONFLICT DO NOTHING`
	sqlSelectAgent = `SELECT id FROM agent_rows WHERE agent_id = ?1`

	sqlInsertAssertion = `INSERT INTO assertion_rows
		(hash, group_id, object_type, object_value, confidence, source_hash, "offset")
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (hash) DO NOTHING`
	sqlSelectAssertion = `SELECT id, group_id FROM assertion_rows WHERE hash = ?1`

	// The latest act wins (API.md §1.3): a newer timestamp, then at equal timestamps a
	// retract over a sign. The last tie (same act, same time, different signature bytes,
	// possible with a non-deterministic signer) goes to the smaller signature, so the
	// stored row does not depend on arrival order.
	sqlSignAct = `INSERT INTO sign_acts (assertion_id, agent, retract, "timestamp", signature)
		VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (assertion_id, agent) DO UPDATE SET
			retract = excluded.retract, "timestamp" = excluded."timestamp", signature = excluded.signature
		WHERE excluded."timestamp" > sign_acts."timestamp"
		   OR (excluded."timestamp" = sign_acts."timestamp"
		       AND (excluded.retract > sign_acts.retract
		            OR (excluded.retract = sign_acts.retract AND excluded.signature < sign_acts.signature)))`

	// The latest vote wins; at equal timestamps the lower vote (-1, then 0, then 1).
	sqlVoteAct = `INSERT INTO vote_acts (assertion_id, agent, vote, "timestamp", signature)
		VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (assertion_id, agent) DO UPDATE SET
			vote = excluded.vote, "timestamp" = excluded."timestamp", signature = excluded.signature
		WHERE excluded."timestamp" > vote_acts."timestamp"
		   OR (excluded."timestamp" = vote_acts."timestamp"
		       AND (excluded.vote < vote_acts.vote
		            OR (excluded.vote = vote_acts.vote AND excluded.signature < vote_acts.signature)))`

	// Both rules above in one: a retraction is stored with vote 0 and never competes
	// with a vote (kind is part of the key).
	sqlPendingAct = `INSERT INTO pending_acts (hash, kind, agent, vote, "timestamp", signature)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6)
		ON CONFLICT (hash, kind, agent) DO UPDATE SET
			vote = excluded.vote, "timestamp" = excluded."timestamp", signature = excluded.signature
		WHERE excluded."timestamp" > pending_acts."timestamp"
		   OR (excluded."timestamp" = pending_acts."timestamp"
		       AND (excluded.vote < pending_acts.vote
		            OR (excluded.vote = pending_acts.vote AND excluded.signature < pending_acts.signature)))`
	sqlSelectPending = `SELECT kind, agent, vote, "timestamp", signature FROM pending_acts WHERE hash = ?1`
	sqlDeletePending = `DELETE FROM pending_acts WHERE hash = ?1`

	// An assertion with no signer left is retracted; one that regains a signer is not.
	sqlRefreshRetracted = `UPDATE assertion_rows
		SET retracted = (NOT EXISTS (SELECT 1 FROM sign_acts WHERE assertion_id = ?1 AND retract = 0))
		WHERE id = ?1
		  AND retracted <> (NOT EXISTS (SELECT 1 FROM sign_acts WHERE assertion_id = ?1 AND retract = 0))`
)
