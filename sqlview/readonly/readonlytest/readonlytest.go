// Package readonlytest builds populated StemeDB databases for the tests and benchmarks
// of the read-only SQL surface (package readonly, the /v1/sql endpoint, the docs'
// example queries): sqlview's writer and applier fill the base tables, and a
// materializer with the plain-Go reference lenses fills resolved, as a running node
// would.
package readonlytest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// waitLimit bounds every wait for the materializer.
const waitLimit = 30 * time.Second

// Fixture is a StemeDB database in a test's temporary directory.
type Fixture struct {
	Dir   string // the data directory: nothing but the database files belong here
	Path  string // the SQLite file
	Views *sqlview.DB

	mat *materialize.Materializer
	ap  *sqlview.Applier
	off uint64
}

// New opens an empty database with a running materializer; both stop when the test
// ends.
func New(t testing.TB) *Fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &Fixture{Dir: dir, Path: filepath.Join(dir, "stemedb.sqlite")}
	var err error
	f.Views, err = sqlview.Open(ctx, f.Path, sqlview.Options{CheckpointInterval: -1})
	require.NoError(t, err)
	f.ap, err = sqlview.NewApplier(ctx, f.Views)
	require.NoError(t, err)
	f.mat, err = materialize.New(ctx, f.Views, materialize.Options{})
	require.NoError(t, err)
	lenses := map[string]host.Resolver{}
	for _, name := range host.BuiltinNames() {
		l, err := lensref.New(name)
		require.NoError(t, err)
		lenses[name] = l
	}
	f.mat.SetLenses(lenses)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.mat.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		require.NoError(t, f.Views.Close())
	})
	return f
}

// Materializer is the fixture's materializer, for a server's Freshness.
func (f *Fixture) Materializer() *materialize.Materializer { return f.mat }

// Apply applies recs in one transaction, as ingest would, and waits until the
// materializer has caught up with them.
func (f *Fixture) Apply(t testing.TB, recs ...assertion.Record) {
	t.Helper()
	ctx := context.Background()
	base, end := f.off, f.off
	err := f.Views.Write(ctx, func(tx *sqlview.Tx) error {
		b := f.ap.Begin(tx, base)
		for i := range recs {
			end++
			if err := b.Apply(ctx, end, &recs[i], nil); err != nil {
				return err
			}
		}
		_, err := b.Finish(ctx, end)
		return err
	})
	require.NoError(t, err)
	f.off = end
	f.mat.Notify()
	wctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	require.NoError(t, f.mat.WaitMaterialized(wctx, end))
}

// Key is a deterministic agent key for name.
func Key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("readonlytest/agent/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Agent is the agent id of Key(name).
func Agent(name string) assertion.AgentID { return assertion.AgentOf(Key(name)) }

// Assert is an assert record of c signed by the named agents at ts.
func Assert(c assertion.Claim, ts uint64, agents ...string) assertion.Record {
	a := assertion.Assertion{Claim: c}
	for _, n := range agents {
		a.Sign(Key(n), ts)
	}
	return assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{a}}
}

// Vote is a vote record by who on c.
func Vote(c assertion.Claim, who string, v int8, ts uint64) assertion.Record {
	h := c.Hash()
	var s assertion.Sig
	copy(s[:], ed25519.Sign(Key(who), assertion.VoteMessage(h, v, ts)))
	return assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
		Assertion: h, Agent: Agent(who), Value: v, Timestamp: ts, Sig: s}}
}

// Retract is a retraction record by who of c.
func Retract(c assertion.Claim, who string, ts uint64) assertion.Record {
	h := c.Hash()
	var s assertion.Sig
	copy(s[:], ed25519.Sign(Key(who), assertion.RetractMessage(h, ts)))
	return assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.Retraction{
		Assertion: h, Agent: Agent(who), Timestamp: ts, Sig: s}}
}

// Claims of the seeded scenario, for tests that look for them.
var (
	TeslaRevenueA = Number("Tesla_Inc", "has_revenue", 96.7, 0.95)
	TeslaRevenueB = Number("Tesla_Inc", "has_revenue", 81.5, 0.99)
)

// Number is a claim with a Number object.
func Number(subject, predicate string, v, conf float64) assertion.Claim {
	return assertion.Claim{Subject: subject, Predicate: predicate,
		Object: assertion.Object{Type: assertion.TypeNumber, Number: v}, Confidence: conf}
}

func object(subject, predicate string, o assertion.Object, conf float64) assertion.Claim {
	return assertion.Claim{Subject: subject, Predicate: predicate, Object: o, Confidence: conf}
}

// T0 is the scenario's first timestamp.
const T0 = 1_764_000_000

// Seed fills the database with a small world in which the lenses disagree: Tesla's
// revenue is claimed by two agents at 96.7 and by a more confident, newer one at 81.5,
// with votes on both; every object type appears; one claim is retracted; and twenty
// more companies carry one to three competing revenue and employee claims from five
// agents.
func (f *Fixture) Seed(t testing.TB) {
	t.Helper()
	src := assertion.Hash{3, 3, 3}
	withSource := Number("Tesla_Inc", "has_employees", 140473, 0.9)
	withSource.Source = src
	rivianCEO := object("Rivian", "ceo", assertion.Object{Type: assertion.TypeString, Text: "RJ Scaringe"}, 0.8)
	recs := []assertion.Record{
		Assert(TeslaRevenueA, T0, "alice", "bob"),
		Assert(TeslaRevenueB, T0+50, "carol"),
		Vote(TeslaRevenueA, "erin", -1, T0+60),
		Vote(TeslaRevenueB, "dave", 1, T0+61),
		Vote(TeslaRevenueB, "erin", 1, T0+62),
		Assert(object("Tesla_Inc", "headquartered_in", assertion.Object{Type: assertion.TypeEntity, Text: "Austin"}, 0.9), T0+10, "alice", "bob"),
		Assert(object("Tesla_Inc", "headquartered_in", assertion.Object{Type: assertion.TypeEntity, Text: "Palo_Alto"}, 0.6), T0+5, "carol"),
		Assert(object("Tesla_Inc", "founded", assertion.Object{Type: assertion.TypeTime, UnixNano: time.Date(2003, 7, 1, 0, 0, 0, 0, time.UTC).UnixNano()}, 1), T0+1, "alice"),
		Assert(object("Tesla_Inc", "is_public", assertion.Object{Type: assertion.TypeBoolean, Bool: true}, 1), T0+2, "alice", "bob", "carol"),
		Assert(object("Tesla_Inc", "profile", assertion.Object{Type: assertion.TypeJSON, Text: `{"ceo":"Elon Musk","tags":["ev","energy"]}`}, 0.7), T0+3, "dave"),
		Assert(withSource, T0+4, "dave"),
		Assert(rivianCEO, T0+6, "alice"),
		Retract(rivianCEO, "alice", T0+7),
	}
	agents := []string{"alice", "bob", "carol", "dave", "erin"}
	for i := range 20 {
		company := fmt.Sprintf("Company_%02d", i)
		for j := range 1 + i%3 {
			signers := []string{agents[(i+j)%5]}
			if j == 0 && i%2 == 0 {
				signers = append(signers, agents[(i+3)%5])
			}
			rev := Number(company, "has_revenue", float64(10+i+j*2), 0.5+0.1*float64(j))
			recs = append(recs, Assert(rev, T0+100+uint64(i*3+j), signers...))
			if j == 1 {
				recs = append(recs, Vote(rev, agents[(i+4)%5], -1, T0+200+uint64(i)))
			}
		}
		recs = append(recs, Assert(Number(company, "has_employees", float64(100*(i+1)), 0.8), T0+300+uint64(i), agents[i%5]))
	}
	f.Apply(t, recs...)
}

// Bulk adds n assertions over n/5 (subject, predicate) groups, 20 predicates and 100
// agents, each signed once, by writing sqlview's internal tables directly in one
// transaction: a million rows take seconds instead of the minutes ingest would. It
// bypasses the log, ingest and the materializer, so resolved stays empty: it is for
// benchmarks of reads over the base views only, on a fresh fixture.
func (f *Fixture) Bulk(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	groups := max(1, n/5)
	stmts := []struct {
		sql  string
		args []any
	}{
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
		  INSERT INTO claim_groups (id, subject, predicate)
		  SELECT i + 1, 'subject-' || (i / 20), 'p' || (i % 20) FROM n`, []any{groups}},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 100)
		  INSERT INTO agent_rows (id, agent_id, trust) SELECT i + 1, printf('%064x', i), 1.0 FROM n`, nil},
		{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
		  INSERT INTO assertion_rows (id, hash, group_id, object_type, object_value, confidence, source_hash, retracted, "offset")
		  SELECT i + 1, printf('%064x', i), (i % ?2) + 1, 'Number', (i % 1000) * 0.5, (i % 100) / 100.0, NULL, 0, i + 1 FROM n`,
			[]any{n, groups}},
		{`INSERT INTO sign_acts (assertion_id, agent, retract, "timestamp", signature)
		  SELECT id, (id % 100) + 1, 0, 1764000000 + id % 86400, zeroblob(64) FROM assertion_rows`, nil},
		{`UPDATE state SET value = ?1 WHERE key = 'assertion_count'`, []any{n}},
	}
	err := f.Views.Write(ctx, func(tx *sqlview.Tx) error {
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("bulk: %w", err)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// State summarises everything a statement could have changed: the resolved digest,
// the row count of every table, and the schema's text. Two equal States mean the
// data and the schema are intact.
func (f *Fixture) State(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	r := f.Views.ReadDB()
	digest, err := materialize.Digest(ctx, r)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("resolved " + digest + "\n")
	rows, err := r.QueryContext(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var typ, name, text string
		require.NoError(t, rows.Scan(&typ, &name, &text))
		fmt.Fprintf(&b, "%s %s %s\n", typ, name, text)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, name := range tables {
		var n int64
		require.NoError(t, r.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM "%s"`, name)).Scan(&n))
		fmt.Fprintf(&b, "count %s %d\n", name, n)
	}
	return b.String()
}

// Files lists the names in the data directory, sorted, without the database's own
// -wal, -shm and -journal files, which SQLite creates and removes as it goes.
func (f *Fixture) Files(t testing.TB) []string {
	t.Helper()
	return ListFiles(t, f.Dir, filepath.Base(f.Path))
}

// ListFiles lists the names in dir, sorted, without db's -wal, -shm and -journal
// files.
func ListFiles(t testing.TB, dir, db string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		switch n := e.Name(); n {
		case db + "-wal", db + "-shm", db + "-journal":
		default:
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
