package ingest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/sqlview"
	"github.com/stemedb/stemedb/sqlview/sqlviewtest"
)

// --- acts ---

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("agent/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func agent(name string) assertion.AgentID { return assertion.AgentOf(key(name)) }

func number(subject, predicate string, v, conf float64) assertion.Claim {
	return assertion.Claim{Subject: subject, Predicate: predicate,
		Object: assertion.Object{Type: assertion.TypeNumber, Number: v}, Confidence: conf}
}

func signedBy(c assertion.Claim, ts uint64, agents ...string) assertion.Assertion {
	a := assertion.Assertion{Claim: c}
	for _, n := range agents {
		a.Sign(key(n), ts)
	}
	return a
}

func assertRec(as ...assertion.Assertion) assertion.Record {
	return assertion.Record{Kind: assertion.KindAssert, Assertions: as}
}

func signed(c assertion.Claim, ts uint64, agents ...string) assertion.Record {
	return assertRec(signedBy(c, ts, agents...))
}

func vote(c assertion.Claim, who string, v int8, ts uint64) assertion.Record {
	return assertion.Record{Kind: assertion.KindVote, Vote: assertion.SignVote(key(who), c.Hash(), v, ts)}
}

func retract(c assertion.Claim, who string, ts uint64) assertion.Record {
	return assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.SignRetraction(key(who), c.Hash(), ts)}
}

func sig(k ed25519.PrivateKey, msg []byte) (s assertion.Sig) {
	copy(s[:], ed25519.Sign(k, msg))
	return s
}

func payload(r assertion.Record) []byte {
	switch r.Kind {
	case assertion.KindAssert:
		return assertion.AppendAssertRecord(nil, r.Assertions)
	case assertion.KindVote:
		return assertion.AppendVoteRecord(nil, r.Vote)
	case assertion.KindRetract:
		return assertion.AppendRetractRecord(nil, r.Retraction)
	}
	panic("unknown kind")
}

// --- databases ---

func openDB(t testing.TB, path string) *sqlview.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "stemedb.sqlite")
	}
	db, err := sqlview.Open(context.Background(), path, sqlview.Options{})
	require.NoError(t, err)
	return db
}

// errRollback ends a Write whose effects a test only wanted to look at.
var errRollback = errors.New("rollback")

// applyInTx applies recs (record i ending at offset i+1) in one transaction, split into
// batches of the given sizes (the rest in a last batch), dumps the state and rolls back.
func applyInTx(t testing.TB, db *sqlview.DB, recs []assertion.Record, splits []int) string {
	t.Helper()
	ctx := context.Background()
	var state string
	err := db.Write(ctx, func(tx *sqlview.Tx) error {
		// A fresh Applier each time: its cache only learns from commits.
		ap, err := sqlview.NewApplier(ctx, db)
		if err != nil {
			return err
		}
		end := uint64(0)
		i := 0
		for _, n := range append(splits, len(recs)) {
			if i >= len(recs) {
				break
			}
			b := ap.Begin(tx, end)
			for ; n > 0 && i < len(recs); n-- {
				end++
				if err := b.Apply(ctx, end, &recs[i], nil); err != nil {
					return err
				}
				i++
			}
			if _, err := b.Finish(ctx, end); err != nil {
				return err
			}
		}
		if state, err = dumpState(ctx, tx); err != nil {
			return err
		}
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	return state
}

// stateQueries read everything ingest decides, except offsets and row ids (which
// depend on arrival order by design).
var stateQueries = []string{
	`SELECT hash, subject, predicate, object_type, object_value, confidence, source_hash, retracted
		FROM assertions ORDER BY hash`,
	`SELECT assertion_hash, agent_id, signature, timestamp FROM signatures ORDER BY 1, 2`,
	`SELECT assertion_hash, agent_id, vote, timestamp, signature FROM votes ORDER BY 1, 2`,
	`SELECT agent_id, trust FROM agents ORDER BY 1`,
	`SELECT a.hash, ag.agent_id, s.retract, s.timestamp, hex(s.signature)
		FROM sign_acts s JOIN assertion_rows a ON a.id = s.assertion_id JOIN agent_rows ag ON ag.id = s.agent
		ORDER BY 1, 2`,
	`SELECT a.hash, ag.agent_id, v.vote, v.timestamp, hex(v.signature)
		FROM vote_acts v JOIN assertion_rows a ON a.id = v.assertion_id JOIN agent_rows ag ON ag.id = v.agent
		ORDER BY 1, 2`,
	`SELECT p.hash, p.kind, ag.agent_id, p.vote, p.timestamp, hex(p.signature)
		FROM pending_acts p JOIN agent_rows ag ON ag.id = p.agent ORDER BY 1, 2, 3`,
	`SELECT g.subject, g.predicate FROM dirty_groups d JOIN claim_groups g ON g.id = d.group_id ORDER BY 1, 2`,
	`SELECT subject, predicate FROM claim_groups ORDER BY 1, 2`,
	`SELECT value FROM state WHERE key = 'assertion_count'`,
}

func dumpState(ctx context.Context, q sqlview.Querier) (string, error) {
	var b strings.Builder
	for _, query := range stateQueries {
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			return "", fmt.Errorf("%s: %w", query, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&b, "-- %s\n", strings.Join(cols, ","))
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte('|')
				}
				fmt.Fprintf(&b, "%v", v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Close(); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func dbState(t testing.TB, db *sqlview.DB) string {
	t.Helper()
	s, err := dumpState(context.Background(), db.ReadDB())
	require.NoError(t, err)
	return s
}

// --- an in-memory log ---

// memLog is a Log in memory, framed like the real one (a 40-byte header per record), so
// that offsets look alike.
type memLog struct {
	mu      sync.Mutex
	entries []ingest.Entry
	grew    chan struct{} // closed and replaced on each append
	// failAt, if set, makes Next fail at the record starting at that offset.
	failAt map[uint64]error
}

func newMemLog() *memLog { return &memLog{grew: make(chan struct{})} }

func (l *memLog) Append(p []byte) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	off := l.endLocked()
	e := ingest.Entry{Offset: off, End: off + 40 + uint64(len(p)), Payload: p}
	l.entries = append(l.entries, e)
	close(l.grew)
	l.grew = make(chan struct{})
	return e.End
}

func (l *memLog) AppendRecords(recs ...assertion.Record) uint64 {
	var end uint64
	for _, r := range recs {
		end = l.Append(payload(r))
	}
	return end
}

func (l *memLog) End() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.endLocked()
}

func (l *memLog) endLocked() uint64 {
	if len(l.entries) == 0 {
		return 0
	}
	return l.entries[len(l.entries)-1].End
}

func (l *memLog) Tail(from uint64) (ingest.Tail, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from == l.endLocked() {
		return &memTail{l: l, i: len(l.entries)}, nil
	}
	for i, e := range l.entries {
		if e.Offset == from {
			return &memTail{l: l, i: i}, nil
		}
	}
	return nil, fmt.Errorf("offset %d is not a record boundary", from)
}

type memTail struct {
	l *memLog
	i int
}

func (t *memTail) Next(ctx context.Context) (ingest.Entry, error) {
	for {
		t.l.mu.Lock()
		if t.i < len(t.l.entries) {
			e := t.l.entries[t.i]
			err := t.l.failAt[e.Offset]
			t.l.mu.Unlock()
			if err != nil {
				return ingest.Entry{}, err
			}
			t.i++
			return e, nil
		}
		ch := t.l.grew
		t.l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ingest.Entry{}, ctx.Err()
		}
	}
}

func (t *memTail) Close() error { return nil }

// runIngest starts an Ingester on db and log and returns it with a stop function that
// cancels it and returns Run's result.
func runIngest(t testing.TB, db *sqlview.DB, log ingest.Log, opts ingest.Options) (*ingest.Ingester, func() error) {
	t.Helper()
	in := ingest.New(db, log, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return in, stop
}

func ingestOpts() ingest.Options { return ingest.Options{} }

func dump(t testing.TB, db *sqlview.DB, query string, args ...any) [][]any {
	return sqlviewtest.Rows(t, db.ReadDB(), query, args...)
}
