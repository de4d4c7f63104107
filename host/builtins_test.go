package host_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/internal/lensref"
)

func loadBuiltins(t testing.TB, rt *host.Runtime) *host.Module {
	t.Helper()
	m, err := rt.LoadBuiltins(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close(context.Background())) })
	return m
}

// norm makes nil and empty results compare equal.
func norm(rs [][]int) [][]int {
	out := make([][]int, len(rs))
	for i, r := range rs {
		if len(r) > 0 {
			out[i] = r
		}
	}
	return out
}

// TestBuiltins_MatchReference is the differential test: every built-in WASM lens agrees
// with the independent Go reference on 12,000 random groups full of ties, sent in
// batches of 500 (so the agent table and buffer reuse across calls are exercised too).
func TestBuiltins_MatchReference(t *testing.T) {
	groups := lensref.RandomGroups(rand.New(rand.NewPCG(7, 11)), 12_000, 20)
	rt := newRuntime(t, nil)
	m := loadBuiltins(t, rt)
	ctx := context.Background()
	for _, name := range host.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			l, err := m.Lens(name)
			require.NoError(t, err)
			ref, err := lensref.New(name)
			require.NoError(t, err)
			want, err := ref.Resolve(ctx, groups)
			require.NoError(t, err)
			for start := 0; start < len(groups); start += 500 {
				batch := groups[start : start+500]
				got, err := l.Resolve(ctx, batch)
				require.NoError(t, err)
				for i := range batch {
					require.Equal(t, norm(want[start+i:start+i+1]), norm(got[i:i+1]), "group %d: %+v", start+i, batch[i])
				}
			}
		})
	}
}

// TestBuiltins_Interpreter runs a smaller differential test on wazero's interpreter, so
// that the lenses are checked on both of its engines.
func TestBuiltins_Interpreter(t *testing.T) {
	groups := lensref.RandomGroups(rand.New(rand.NewPCG(8, 9)), 300, 20)
	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithInterpreter(true) })
	m := loadBuiltins(t, rt)
	for _, name := range host.BuiltinNames() {
		l, err := m.Lens(name)
		require.NoError(t, err)
		ref, err := lensref.New(name)
		require.NoError(t, err)
		want, err := ref.Resolve(context.Background(), groups)
		require.NoError(t, err)
		got, err := l.Resolve(context.Background(), groups)
		require.NoError(t, err)
		require.Equal(t, norm(want), norm(got), name)
	}
}

// TestBuiltins_OrderIndependent shuffles every group's candidates: the winners must be
// the same assertions, since the host promises no candidate order.
func TestBuiltins_OrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	groups := lensref.RandomGroups(rng, 2_000, 20)
	shuffled := make([]host.Group, len(groups))
	for i, g := range groups {
		s := g
		s.Candidates = append([]host.Candidate(nil), g.Candidates...)
		rng.Shuffle(len(s.Candidates), func(a, b int) { s.Candidates[a], s.Candidates[b] = s.Candidates[b], s.Candidates[a] })
		shuffled[i] = s
	}
	m := loadBuiltins(t, newRuntime(t, nil))
	for _, name := range host.BuiltinNames() {
		l, err := m.Lens(name)
		require.NoError(t, err)
		a, err := l.Resolve(context.Background(), groups)
		require.NoError(t, err)
		b, err := l.Resolve(context.Background(), shuffled)
		require.NoError(t, err)
		for i := range groups {
			require.Equal(t, hashes(groups[i], a[i]), hashes(shuffled[i], b[i]), "%s group %d", name, i)
		}
	}
}

func hashes(g host.Group, winners []int) [][32]byte {
	var out [][32]byte
	for _, w := range winners {
		out = append(out, g.Candidates[w].Hash)
	}
	return out
}

// TestBuiltins_Hammer resolves from many goroutines at once through a pool smaller than
// the goroutine count; under -race this also checks that no instance is shared (an
// instance used twice at once would fail its busy guard or answer wrongly).
func TestBuiltins_Hammer(t *testing.T) {
	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithPoolSize(2).WithMaxBatchBytes(8 << 10) })
	m := loadBuiltins(t, rt)
	l, err := m.Lens("TrustWeighted")
	require.NoError(t, err)
	ref, err := lensref.New("TrustWeighted")
	require.NoError(t, err)
	ctx := context.Background()

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for range 10 {
				groups := lensref.RandomGroups(rng, 100, 12)
				want, err := ref.Resolve(ctx, groups)
				if !assertNoError(t, err) {
					return
				}
				got, err := l.Resolve(ctx, groups)
				if !assertNoError(t, err) {
					return
				}
				if !assertEqual(t, norm(want), norm(got)) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Goroutines other than the test's must not call FailNow; these report and let the
// goroutine return.
func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

func assertEqual(t *testing.T, want, got [][]int) bool {
	for i := range want {
		if len(want[i]) != len(got[i]) {
			t.Errorf("group %d: want %v, got %v", i, want[i], got[i])
			return false
		}
		for j := range want[i] {
			if want[i][j] != got[i][j] {
				t.Errorf("group %d: want %v, got %v", i, want[i], got[i])
				return false
			}
		}
	}
	return true
}

// TestBuiltins_SplitsLargeInput sends more than the batch limit in one Resolve.
func TestBuiltins_SplitsLargeInput(t *testing.T) {
	groups := lensref.RandomGroups(rand.New(rand.NewPCG(1, 1)), 1_000, 20)
	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithMaxBatchBytes(4 << 10) })
	l, err := loadBuiltins(t, rt).Lens("All")
	require.NoError(t, err)
	ref, err := lensref.New("All")
	require.NoError(t, err)
	want, err := ref.Resolve(context.Background(), groups)
	require.NoError(t, err)
	got, err := l.Resolve(context.Background(), groups)
	require.NoError(t, err)
	require.Equal(t, norm(want), norm(got))
}

// TestBuiltins_Recycle retires instances whose memory passes the threshold; answers stay
// right across the restarts.
func TestBuiltins_Recycle(t *testing.T) {
	rt := newRuntime(t, func(c host.Config) host.Config { return c.WithRecycleAbovePages(1).WithPoolSize(1) })
	l, err := loadBuiltins(t, rt).Lens("Consensus")
	require.NoError(t, err)
	ref, err := lensref.New("Consensus")
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(4, 4))
	for range 3 {
		groups := lensref.RandomGroups(rng, 50, 10)
		want, err := ref.Resolve(context.Background(), groups)
		require.NoError(t, err)
		got, err := l.Resolve(context.Background(), groups)
		require.NoError(t, err)
		require.Equal(t, norm(want), norm(got))
	}
}
