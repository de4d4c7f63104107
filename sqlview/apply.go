package sqlview

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/stemedb/stemedb/assertion"
)

// Applier applies the acts of log records to the base tables under the rules of
// API.md §1.3:
//
//   - Per (agent, assertion) the latest sign-or-retract act counts (by timestamp; at
//     equal timestamps a retract beats a sign). The agent is a signer while that act is
//     a sign, and the stored signature is that act's. An assertion with no signer left
//     is retracted (and comes back if a newer sign arrives).
//   - Per (agent, assertion) the latest vote counts (at equal timestamps the lower
//     vote); a 0 withdraws.
//   - A vote or retraction whose assertion has not arrived is kept in pending_acts and
//     applied when it does. A claim written twice is one assertion.
//
// The result does not depend on the order of the acts, except for the offset column
// (the record that first wrote an assertion) and row ids.
//
// There is one Applier per ingest loop, used only inside Write. Its id caches learn
// only from committed batches, so a rolled-back batch cannot leave a stale id behind.
type Applier struct {
	agents map[assertion.AgentID]int64 // agent_rows ids, all committed
	groups map[groupKey]int64          // claim_groups ids, all committed

	// The hashes that pending_acts may hold acts for, so that a new assertion looks
	// for waiting acts only when there can be some. A hash is added as soon as an act
	// waits for it and removed only when its adoption commits: a stale entry costs a
	// lookup, a missing one would lose acts. Past maxPendingHashes, every new
	// assertion looks (pendingAll).
	pending    map[assertion.Hash]struct{}
	pendingAll bool
}

// Bounds of the id caches; past them a cache starts over. Agents are few; groups are
// many, and only the recently written ones are likely to come again.
const (
	maxCachedAgents  = 1 << 20
	maxCachedGroups  = 1 << 16
	maxPendingHashes = 1 << 20
)

// NewApplier returns an Applier for db.
func NewApplier(ctx context.Context, db *DB) (*Applier, error) {
	a := &Applier{
		agents: make(map[assertion.AgentID]int64),
		groups: make(map[groupKey]int64),
	}
	rows, err := db.r.QueryContext(ctx,
		`SELECT DISTINCT hash FROM pending_acts LIMIT ?1`, maxPendingHashes+1)
	if err != nil {
		return nil, fmt.Errorf("new applier: %w", err)
	}
	defer rows.Close()
	a.pending = make(map[assertion.Hash]struct{})
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("new applier: %w", err)
		}
		h, err := assertion.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("new applier: stored hash: %w", err)
		}
		a.addPending(h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("new applier: %w", err)
	}
	return a, nil
}

func (a *Applier) addPending(h assertion.Hash) {
	if a.pendingAll {
		return
	}
	if len(a.pending) >= maxPendingHashes {
		a.pending, a.pendingAll = nil, true
		return
	}
	a.pending[h] = struct{}{}
}

func (a *Applier) mayBePending(h assertion.Hash) bool {
	if a.pendingAll {
		return true
	}
	_, ok := a.pending[h]
	return ok
}

// Batch is one transaction's worth of records being applied.
type Batch struct {
	a     *Applier
	tx    *Tx
	since uint64 // the ingested offset before this batch

	agents map[assertion.AgentID]int64 // agent ids this batch looked up
	groups map[groupKey]int64          // group ids this batch looked up
	known  map[assertion.Hash]assertionRef
	dirty  map[int64]uint64 // group id -> end of the latest record that changed it

	newAssertions int64
}

type groupKey struct{ subject, predicate string }

type assertionRef struct{ id, group int64 }

// Begin starts applying records in tx. since is the ingested offset before the first of
// them, as ReadState reports it.
func (a *Applier) Begin(tx *Tx, since uint64) *Batch {
	return &Batch{
		a: a, tx: tx, since: since,
		agents: make(map[assertion.AgentID]int64),
		groups: make(map[groupKey]int64),
		known:  make(map[assertion.Hash]assertionRef),
		dirty:  make(map[int64]uint64),
	}
}

// Apply applies one decoded log record that ends at log offset end. hashes, if not nil,
// are the claim hashes of rec.Assertions (so that callers can compute them elsewhere);
// nil means compute them here.
func (b *Batch) Apply(ctx context.Context, end uint64, rec *assertion.Record, hashes []assertion.Hash) error {
	switch rec.Kind {
	case assertion.KindAssert:
		if hashes != nil && len(hashes) != len(rec.Assertions) {
			return fmt.Errorf("apply record at %d: %d hashes for %d assertions", end, len(hashes), len(rec.Assertions))
		}
		for i := range rec.Assertions {
			as := &rec.Assertions[i]
			var h assertion.Hash
			if hashes != nil {
				h = hashes[i]
			} else {
				h = as.Claim.Hash()
			}
			if err := b.assert(ctx, end, as, h); err != nil {
				return fmt.Errorf("apply record at %d: assertion %s: %w", end, h, err)
			}
		}
	case assertion.KindVote:
		if err := b.vote(ctx, end, &rec.Vote); err != nil {
			return fmt.Errorf("apply record at %d: vote on %s: %w", end, rec.Vote.Assertion, err)
		}
	case assertion.KindRetract:
		if err := b.retract(ctx, end, &rec.Retraction); err != nil {
			return fmt.Errorf("apply record at %d: retraction of %s: %w", end, rec.Retraction.Assertion, err)
		}
	default:
		return fmt.Errorf("apply record at %d: kind %v: %w", end, rec.Kind, assertion.ErrUnknownKind)
	}
	return nil
}

// BatchStats says what a batch did.
type BatchStats struct {
	NewAssertions int64 // assertions seen for the first time
	DirtyGroups   int   // groups marked dirty
}

// Finish marks the changed groups dirty and records ingested as the ingested offset, in
// the batch's transaction.
func (b *Batch) Finish(ctx context.Context, ingested uint64) (BatchStats, error) {
	if len(b.dirty) > 0 {
		// One statement for the whole batch: [[group, offset], ...] through json_each.
		buf := make([]byte, 0, 24*len(b.dirty))
		buf = append(buf, '[')
		for g, off := range b.dirty {
			if len(buf) > 1 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			buf = strconv.AppendInt(buf, g, 10)
			buf = append(buf, ',')
			buf = strconv.AppendUint(buf, off, 10)
			buf = append(buf, ']')
		}
		buf = append(buf, ']')
		if _, err := b.tx.ExecContext(ctx, sqlMarkDirty, string(buf), int64(b.since)); err != nil {
			return BatchStats{}, fmt.Errorf("mark %d groups dirty: %w", len(b.dirty), err)
		}
	}
	if err := setIngestedOffset(ctx, b.tx, ingested, b.newAssertions); err != nil {
		return BatchStats{}, err
	}
	a, agents, groups := b.a, b.agents, b.groups
	b.tx.OnCommit(func() {
		a.agents = mergeCache(a.agents, agents, maxCachedAgents)
		a.groups = mergeCache(a.groups, groups, maxCachedGroups)
	})
	return BatchStats{NewAssertions: b.newAssertions, DirtyGroups: len(b.dirty)}, nil
}

const (
	pendingRetract = 1
	pendingVote    = 2
)

func (b *Batch) assert(ctx context.Context, end uint64, as *assertion.Assertion, h assertion.Hash) error {
	ref, isNew, err := b.upsertAssertion(ctx, end, &as.Claim, h)
	if err != nil {
		return err
	}
	changed := isNew
	for i := range as.Signatures {
		s := &as.Signatures[i]
		agent, err := b.agentID(ctx, s.Agent)
		if err != nil {
			return err
		}
		c, err := b.signAct(ctx, ref.id, agent, false, s.Timestamp, s.Sig[:])
		if err != nil {
			return err
		}
		changed = changed || c
	}
	// A new assertion's signers are exactly the ones just written, unless retractions
	// were waiting for it; an existing one may have gained back a signer.
	refresh := changed && !isNew
	if isNew && b.a.mayBePending(h) {
		retracts, err := b.adoptPending(ctx, h, ref)
		if err != nil {
			return err
		}
		refresh = refresh || retracts
	}
	if refresh {
		if err := b.refreshRetracted(ctx, ref.id); err != nil {
			return err
		}
	}
	if changed {
		b.dirty[ref.group] = end
	}
	return nil
}

func (b *Batch) vote(ctx context.Context, end uint64, v *assertion.Vote) error {
	agent, err := b.agentID(ctx, v.Agent)
	if err != nil {
		return err
	}
	ref, ok, err := b.lookup(ctx, v.Assertion)
	if err != nil {
		return err
	}
	if !ok {
		return b.pendingAct(ctx, v.Assertion, pendingVote, agent, v.Value, v.Timestamp, v.Sig[:])
	}
	changed, err := b.voteAct(ctx, ref.id, agent, v.Value, v.Timestamp, v.Sig[:])
	if err != nil {
		return err
	}
	if changed {
		b.dirty[ref.group] = end
	}
	return nil
}

func (b *Batch) retract(ctx context.Context, end uint64, r *assertion.Retraction) error {
	agent, err := b.agentID(ctx, r.Agent)
	if err != nil {
		return err
	}
	ref, ok, err := b.lookup(ctx, r.Assertion)
	if err != nil {
		return err
	}
	if !ok {
		return b.pendingAct(ctx, r.Assertion, pendingRetract, agent, 0, r.Timestamp, r.Sig[:])
	}
	// Stored even for an agent that never signed: it has no effect now, but it must
	// still beat an older sign by that agent that arrives later.
	changed, err := b.signAct(ctx, ref.id, agent, true, r.Timestamp, r.Sig[:])
	if err != nil {
		return err
	}
	if changed {
		if err := b.refreshRetracted(ctx, ref.id); err != nil {
			return err
		}
		b.dirty[ref.group] = end
	}
	return nil
}

// upsertAssertion finds or inserts the assertion row for claim c with hash h.
func (b *Batch) upsertAssertion(ctx context.Context, end uint64, c *assertion.Claim, h assertion.Hash) (assertionRef, bool, error) {
	if ref, ok := b.known[h]; ok {
		return ref, false, nil
	}
	g, err := b.groupID(ctx, c.Subject, c.Predicate)
	if err != nil {
		return assertionRef{}, false, err
	}
	var source any
	if !c.Source.IsZero() {
		source = c.Source.String()
	}
	conf := c.Confidence
	if conf == 0 {
		conf = 0 // -0 and +0 are the same claim; store +0
	}
	res, err := b.tx.ExecContext(ctx, sqlInsertAssertion, h.String(), g,
		c.Object.TypeName(), c.Object.SQLValue(), conf, source, int64(end))
	if err != nil {
		return assertionRef{}, false, fmt.Errorf("insert: %w", err)
	}
	ref := assertionRef{group: g}
	isNew, err := inserted(res)
	if err != nil {
		return assertionRef{}, false, fmt.Errorf("insert: %w", err)
	}
	if isNew {
		if ref.id, err = res.LastInsertId(); err != nil {
			return assertionRef{}, false, fmt.Errorf("insert: %w", err)
		}
		b.newAssertions++
	} else if err := b.tx.QueryRowContext(ctx, sqlSelectAssertion, h.String()).Scan(&ref.id, &ref.group); err != nil {
		return assertionRef{}, false, fmt.Errorf("find: %w", err)
	}
	b.known[h] = ref
	return ref, isNew, nil
}

// lookup finds an existing assertion by hash.
func (b *Batch) lookup(ctx context.Context, h assertion.Hash) (assertionRef, bool, error) {
	if ref, ok := b.known[h]; ok {
		return ref, true, nil
	}
	var ref assertionRef
	err := b.tx.QueryRowContext(ctx, sqlSelectAssertion, h.String()).Scan(&ref.id, &ref.group)
	if errors.Is(err, sql.ErrNoRows) {
		return assertionRef{}, false, nil
	}
	if err != nil {
		return assertionRef{}, false, fmt.Errorf("find: %w", err)
	}
	b.known[h] = ref
	return ref, true, nil
}

// mergeCache adds batch to cache, starting cache over if it would grow past limit.
func mergeCache[K comparable](cache, batch map[K]int64, limit int) map[K]int64 {
	if len(cache)+len(batch) > limit {
		cache = make(map[K]int64, len(batch))
	}
	for k, v := range batch {
		cache[k] = v
	}
	return cache
}

func (b *Batch) groupID(ctx context.Context, subject, predicate string) (int64, error) {
	k := groupKey{subject, predicate}
	if id, ok := b.a.groups[k]; ok {
		return id, nil
	}
	if id, ok := b.groups[k]; ok {
		return id, nil
	}
	id, err := b.insertOrSelect(ctx, sqlInsertGroup, sqlSelectGroup, subject, predicate)
	if err != nil {
		return 0, fmt.Errorf("group: %w", err)
	}
	b.groups[k] = id
	return id, nil
}

func (b *Batch) agentID(ctx context.Context, agent assertion.AgentID) (int64, error) {
	if id, ok := b.a.agents[agent]; ok {
		return id, nil
	}
	if id, ok := b.agents[agent]; ok {
		return id, nil
	}
	id, err := b.insertOrSelect(ctx, sqlInsertAgent, sqlSelectAgent, agent.String())
	if err != nil {
		return 0, fmt.Errorf("agent %s: %w", agent, err)
	}
	b.agents[agent] = id
	return id, nil
}

// insertOrSelect inserts a row whose rowid is wanted, or finds the existing one. Insert
// first: most rows ingest sees are new, and a no-op insert costs little more than the
// select it saves.
func (b *Batch) insertOrSelect(ctx context.Context, ins, sel string, args ...any) (int64, error) {
	res, err := b.tx.ExecContext(ctx, ins, args...)
	if err != nil {
		return 0, err
	}
	ok, err := inserted(res)
	if err != nil {
		return 0, err
	}
	if ok {
		return res.LastInsertId()
	}
	var id int64
	if err := b.tx.QueryRowContext(ctx, sel, args...).Scan(&id); err != nil {
		return 0, err
	}
	return id, nil
}

func inserted(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}

// signAct applies a sign (retract false) or retract act; it reports whether the stored
// act changed.
func (b *Batch) signAct(ctx context.Context, id, agent int64, retract bool, ts uint64, sig []byte) (bool, error) {
	res, err := b.tx.ExecContext(ctx, sqlSignAct, id, agent, retract, int64(ts), sig)
	if err != nil {
		return false, fmt.Errorf("sign act: %w", err)
	}
	return inserted(res)
}

func (b *Batch) voteAct(ctx context.Context, id, agent int64, vote int8, ts uint64, sig []byte) (bool, error) {
	res, err := b.tx.ExecContext(ctx, sqlVoteAct, id, agent, int64(vote), int64(ts), sig)
	if err != nil {
		return false, fmt.Errorf("vote act: %w", err)
	}
	return inserted(res)
}

func (b *Batch) pendingAct(ctx context.Context, h assertion.Hash, kind int, agent int64, vote int8, ts uint64, sig []byte) error {
	if _, err := b.tx.ExecContext(ctx, sqlPendingAct, h.String(), kind, agent, int64(vote), int64(ts), sig); err != nil {
		return fmt.Errorf("keep pending act: %w", err)
	}
	// At once, not on commit: see Applier.pending.
	b.a.addPending(h)
	return nil
}

// adoptPending moves the votes and retractions that arrived before assertion h into
// the act tables. It reports whether a retraction took effect.
func (b *Batch) adoptPending(ctx context.Context, h assertion.Hash, ref assertionRef) (bool, error) {
	type act struct {
		kind, vote int
		agent, ts  int64
		sig        []byte
	}
	// Read everything first: the acts are written with the same connection.
	rows, err := b.tx.QueryContext(ctx, sqlSelectPending, h.String())
	if err != nil {
		return false, fmt.Errorf("read pending acts: %w", err)
	}
	var acts []act
	for rows.Next() {
		var a act
		if err := rows.Scan(&a.kind, &a.agent, &a.vote, &a.ts, &a.sig); err != nil {
			rows.Close()
			return false, fmt.Errorf("read pending acts: %w", err)
		}
		acts = append(acts, a)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, fmt.Errorf("read pending acts: %w", err)
	}
	ap := b.a
	b.tx.OnCommit(func() { delete(ap.pending, h) })
	if len(acts) == 0 {
		return false, nil
	}
	retracted := false
	for _, a := range acts {
		switch a.kind {
		case pendingRetract:
			c, err := b.signAct(ctx, ref.id, a.agent, true, uint64(a.ts), a.sig)
			if err != nil {
				return false, err
			}
			retracted = retracted || c
		case pendingVote:
			if _, err := b.voteAct(ctx, ref.id, a.agent, int8(a.vote), uint64(a.ts), a.sig); err != nil {
				return false, err
			}
		default:
			return false, fmt.Errorf("pending act of unknown kind %d", a.kind)
		}
	}
	if _, err := b.tx.ExecContext(ctx, sqlDeletePending, h.String()); err != nil {
		return false, fmt.Errorf("drop pending acts: %w", err)
	}
	return retracted, nil
}

func (b *Batch) refreshRetracted(ctx context.Context, id int64) error {
	if _, err := b.tx.ExecContext(ctx, sqlRefreshRetracted, id); err != nil {
		return fmt.Errorf("refresh retracted: %w", err)
	}
	return nil
}
