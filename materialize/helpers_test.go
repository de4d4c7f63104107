package materialize_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/sqlview"
)

// waitLimit bounds every wait on a condition in these tests.
const waitLimit = 20 * time.Second

func openDB(t testing.TB) (*sqlview.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stemedb.sqlite")
	db, err := sqlview.Open(context.Background(), path, sqlview.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

// wasmLenses returns the six built-ins through WASM.
func wasmLenses(t testing.TB) map[string]host.Resolver {
	t.Helper()
	mod, err := builtinModule()
	require.NoError(t, err)
	out := make(map[string]host.Resolver)
	for _, name := range host.BuiltinNames() {
		l, err := mod.Lens(name)
		require.NoError(t, err)
		out[name] = l
	}
	return out
}

// refLenses returns the six built-ins' plain-Go references.
func refLenses(t testing.TB) map[string]host.Resolver {
	t.Helper()
	out := make(map[string]host.Resolver)
	for _, name := range host.BuiltinNames() {
		l, err := lensref.New(name)
		require.NoError(t, err)
		out[name] = l
	}
	return out
}

func newMaterializer(t testing.TB, db *sqlview.DB, opts materialize.Options, lenses map[string]host.Resolver) *materialize.Materializer {
	t.Helper()
	m, err := materialize.New(context.Background(), db, opts)
	require.NoError(t, err)
	m.SetLenses(lenses)
	return m
}

// run starts m.Run until the test ends (or stop is called) and returns stop, which
// waits for Run to return and checks that it stopped for the right reason.
func run(t testing.TB, m *materialize.Materializer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor waits until m has materialized off.
func waitFor(t testing.TB, m *materialize.Materializer, off uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	require.NoError(t, m.WaitMaterialized(ctx, off), "stats: %+v", m.Stats())
}

// world makes random but reproducible log records: new claims signed by one to three
// agents, co-signatures, votes (some before their assertion arrives), retractions
// (some by agents that never signed), over few subjects, objects, confidences and
// timestamps, so that lenses meet every tie.
type world struct {
	rng     *rand.Rand
	agents  []assertion.AgentID
	claims  []assertion.Claim // asserted so far
	signers map[assertion.Hash][]int
	future  []assertion.Claim // claims voted on before they are asserted
	groups  int
	off     uint64
}

func newWorld(seed uint64, groups int) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, 99)), groups: groups, signers: make(map[assertion.Hash][]int)}
	for i := range 10 {
		var a assertion.AgentID
		a[0], a[1] = byte(i), byte(seed)
		w.agents = append(w.agents, a)
	}
	return w
}

func (w *world) claim() assertion.Claim {
	g := w.rng.IntN(w.groups)
	c := assertion.Claim{
		Subject:    "subject-" + string(rune('a'+g%26)) + "-" + strings.Repeat("x", g/26),
		Predicate:  []string{"p", "q"}[g%2],
		Confidence: []float64{0, 0.5, 0.5, 0.9, 1}[w.rng.IntN(5)],
	}
	switch w.rng.IntN(3) {
	case 0:
		c.Object = assertion.Object{Type: assertion.TypeNumber, Number: float64(w.rng.IntN(3))}
	case 1:
		c.Object = assertion.Object{Type: assertion.TypeString, Text: []string{"a", "b"}[w.rng.IntN(2)]}
	default:
		c.Object = assertion.Object{Type: assertion.TypeBoolean, Bool: w.rng.IntN(2) == 0}
	}
	return c
}

func (w *world) sig() (s assertion.Sig) {
	for i := range s {
		s[i] = byte(w.rng.Uint32())
	}
	return s
}

func (w *world) ts() uint64 { return 1_764_000_000 + uint64(w.rng.IntN(5)) }

func (w *world) assert(c assertion.Claim, agents ...int) assertion.Record {
	a := assertion.Assertion{Claim: c}
	for _, i := range agents {
		a.Signatures = append(a.Signatures, assertion.Signature{Agent: w.agents[i], Sig: w.sig(), Timestamp: w.ts()})
		w.signers[c.Hash()] = append(w.signers[c.Hash()], i)
	}
	return assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{a}}
}

// record returns the next random record.
func (w *world) record() assertion.Record {
	r := w.rng.IntN(20)
	switch {
	case r < 9 || len(w.claims) == 0:
		c := w.claim()
		if len(w.future) > 0 && w.rng.IntN(4) == 0 {
			c, w.future = w.future[0], w.future[1:]
		}
		w.claims = append(w.claims, c)
		return w.assert(c, w.rng.Perm(len(w.agents))[:1+w.rng.IntN(3)]...)
	case r < 12:
		return w.assert(w.claims[w.rng.IntN(len(w.claims))], w.rng.IntN(len(w.agents)))
	case r < 17 || r == 18:
		var h assertion.Hash
		if r == 18 {
			c := w.claim()
			w.future = append(w.future, c)
			h = c.Hash()
		} else {
			h = w.claims[w.rng.IntN(len(w.claims))].Hash()
		}
		return assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
			Assertion: h, Agent: w.agents[w.rng.IntN(len(w.agents))],
			Value: int8(w.rng.IntN(3) - 1), Timestamp: w.ts(), Sig: w.sig()}}
	default:
		c := w.claims[w.rng.IntN(len(w.claims))]
		agent := w.rng.IntN(len(w.agents))
		if s := w.signers[c.Hash()]; len(s) > 0 && w.rng.IntN(4) != 0 {
			agent = s[w.rng.IntN(len(s))]
		}
		return assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.Retraction{
			Assertion: c.Hash(), Agent: w.agents[agent], Timestamp: w.ts() + 1, Sig: w.sig()}}
	}
}

func (w *world) records(n int) []assertion.Record {
	out := make([]assertion.Record, n)
	for i := range out {
		out[i] = w.record()
	}
	return out
}

// ingest applies recs in one transaction through sqlview's applier, as ingest does,
// each record ending 100 bytes after the previous one, and returns the new ingested
// offset.
type ingester struct {
	db  *sqlview.DB
	ap  *sqlview.Applier
	off uint64
}

func newIngester(t testing.TB, db *sqlview.DB) *ingester {
	t.Helper()
	ctx := context.Background()
	ap, err := sqlview.NewApplier(ctx, db)
	require.NoError(t, err)
	st, err := db.State(ctx)
	require.NoError(t, err)
	return &ingester{db: db, ap: ap, off: st.IngestedOffset}
}

func (in *ingester) apply(t testing.TB, recs []assertion.Record) uint64 {
	t.Helper()
	ctx := context.Background()
	end := in.off
	err := in.db.Write(ctx, func(tx *sqlview.Tx) error {
		b := in.ap.Begin(tx, in.off)
		for i := range recs {
			end += 100
			if err := b.Apply(ctx, end, &recs[i], nil); err != nil {
				return err
			}
		}
		_, err := b.Finish(ctx, end)
		return err
	})
	require.NoError(t, err)
	in.off = end
	return end
}

// row is one `resolved` row.
type row struct {
	Lens, Subject, Predicate string
	Rank                     int64
	Hash                     string
}

func resolvedRows(t testing.TB, db *sqlview.DB, lenses ...string) []row {
	t.Helper()
	rows, err := db.ReadDB().QueryContext(context.Background(),
		`SELECT lens, subject, predicate, rank, assertion_hash FROM resolved`)
	require.NoError(t, err)
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.Lens, &r.Subject, &r.Predicate, &r.Rank, &r.Hash))
		if len(lenses) == 0 || slices.Contains(lenses, r.Lens) {
			out = append(out, r)
		}
	}
	require.NoError(t, rows.Err())
	sortRows(out)
	return out
}

func sortRows(rs []row) {
	slices.SortFunc(rs, func(a, b row) int {
		if c := strings.Compare(a.Lens, b.Lens); c != 0 {
			return c
		}
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		if c := strings.Compare(a.Predicate, b.Predicate); c != 0 {
			return c
		}
		return int(a.Rank - b.Rank)
	})
}

// expectedRows computes `resolved` from scratch: every group's current candidates,
// through the plain-Go reference lenses, in one snapshot.
func expectedRows(t testing.TB, db *sqlview.DB, lenses ...string) []row {
	t.Helper()
	ctx := context.Background()
	if len(lenses) == 0 {
		lenses = host.BuiltinNames()
	}
	tx, err := db.ReadDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	var out []row
	var after int64
	for {
		ids, err := sqlview.ListGroups(ctx, tx, after, 1000)
		require.NoError(t, err)
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		groups, err := sqlview.LoadGroups(ctx, tx, ids)
		require.NoError(t, err)
		for _, name := range lenses {
			ref, err := lensref.New(name)
			require.NoError(t, err)
			for _, g := range groups {
				hg := host.Group{Subject: g.Subject, Predicate: g.Predicate}
				for _, c := range g.Candidates {
					hc := host.Candidate{Hash: c.Hash, Object: c.Object, Confidence: c.Confidence, Up: c.Up, Down: c.Down}
					for _, s := range c.Signers {
						hc.Signers = append(hc.Signers, host.Signer{Agent: s.Agent, Timestamp: s.Timestamp, Trust: s.Trust})
					}
					hg.Candidates = append(hg.Candidates, hc)
				}
				winners, err := ref.Resolve(ctx, []host.Group{hg})
				require.NoError(t, err)
				for rank, i := range winners[0] {
					out = append(out, row{name, g.Subject, g.Predicate, int64(rank + 1), g.Candidates[i].Hash.String()})
				}
			}
		}
	}
	sortRows(out)
	return out
}

// requireResolvedIsFromScratch checks `resolved` against a from-scratch computation.
func requireResolvedIsFromScratch(t testing.TB, db *sqlview.DB, lenses ...string) {
	t.Helper()
	want := expectedRows(t, db, lenses...)
	require.NotEmpty(t, want)
	require.Equal(t, want, resolvedRows(t, db, lenses...))
}

func dirtyIDs(t testing.TB, db *sqlview.DB) []int64 {
	t.Helper()
	ds, err := sqlview.DirtyGroups(context.Background(), db.ReadDB(), 1<<20)
	require.NoError(t, err)
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// failing wraps a lens so that a whole call fails, as a trapping WASM lens does, when
// any of its groups has a subject that bad picks, while failing is set.
type failing struct {
	host.Resolver
	name    string
	bad     func(subject string) bool
	failing atomic.Bool
}

func (f *failing) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	if f.failing.Load() {
		for _, g := range groups {
			if f.bad(g.Subject) {
				return nil, &host.LensError{Lens: f.name, Err: host.ErrTrap}
			}
		}
	}
	return f.Resolver.Resolve(ctx, groups)
}

// hook wraps a lens and calls before ahead of every call.
type hook struct {
	host.Resolver
	before func()
}

func (h hook) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	h.before()
	return h.Resolver.Resolve(ctx, groups)
}

// badOutput answers with an index out of range for groups whose subject bad picks.
type badOutput struct {
	host.Resolver
	bad func(subject string) bool
}

func (b badOutput) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	out, err := b.Resolver.Resolve(ctx, groups)
	for i, g := range groups {
		if err == nil && b.bad(g.Subject) {
			out[i] = []int{len(g.Candidates)}
		}
	}
	return out, err
}
