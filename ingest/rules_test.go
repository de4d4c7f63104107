package ingest_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// The acts of the combination scenario: two claims of one (subject, predicate).
var (
	claimX = number("Tesla_Inc", "has_revenue", 96.7, 0.9)
	claimY = number("Tesla_Inc", "has_revenue", 81.5, 0.8)
)

// scenario returns acts whose combination exercises every rule of API.md §1.3. In any
// order of arrival the result must be:
//
//   - X: signers alice (her re-sign at 300, after her retraction at 200) and bob (100);
//     not retracted; carol's -1 counts (equal timestamps: the lower vote), dave's +1
//     is withdrawn by his 0; eve's retraction has no effect (she never signed).
//   - Y: carol signed and retracted at the same timestamp: the retraction wins, so Y
//     has no signer and is retracted.
func scenario() []assertion.Record {
	return []assertion.Record{
		signed(claimX, 100, "alice", "bob"), // 0
		retract(claimX, "alice", 200),       // 1
		signed(claimX, 300, "alice"),        // 2
		vote(claimX, "carol", 1, 150),       // 3
		vote(claimX, "carol", -1, 150),      // 4
		retract(claimX, "eve", 500),         // 5
		signed(claimY, 100, "carol"),        // 6
		retract(claimY, "carol", 100),       // 7
		vote(claimX, "dave", 1, 10),         // 8
		vote(claimX, "dave", 0, 20),         // 9
		signed(claimX, 50, "alice"),         // 10: older than her retraction: no effect
	}
}

func TestRules_Scenario(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	ctx := context.Background()
	log := newMemLog()
	end := log.AppendRecords(scenario()...)
	in, stop := runIngest(t, db, log, ingestOpts())
	require.NoError(t, in.WaitApplied(ctx, end))
	require.NoError(t, stop())

	hx, hy := claimX.Hash(), claimY.Hash()
	x, err := db.GetAssertion(ctx, hx)
	require.NoError(t, err)
	require.False(t, x.Retracted)
	require.Len(t, x.Signatures, 2)
	byAgent := map[assertion.AgentID]uint64{}
	for _, s := range x.Signatures {
		byAgent[s.Agent] = s.Timestamp
	}
	require.Equal(t, map[assertion.AgentID]uint64{agent("alice"): 300, agent("bob"): 100}, byAgent)
	// The stored signature is the one of the act that counts.
	for _, s := range x.Signatures {
		if s.Agent == agent("alice") {
			require.Equal(t, sig(key("alice"), assertion.AssertMessage(hx, 300)), s.Sig)
		}
	}
	require.Equal(t, uint32(0), x.Up)
	require.Equal(t, uint32(1), x.Down)

	y, err := db.GetAssertion(ctx, hy)
	require.NoError(t, err)
	require.True(t, y.Retracted)
	require.Empty(t, y.Signatures)

	votes := dump(t, db, `SELECT agent_id, vote, timestamp FROM votes WHERE assertion_hash = ?`, hx.String())
	require.Equal(t, [][]any{{agent("carol").String(), int64(-1), int64(150)}}, votes)
	agents := dump(t, db, `SELECT count(*) FROM agents WHERE trust = 1.0`)
	require.Equal(t, int64(5), agents[0][0], "every agent seen has a row")
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), st.Assertions)
	require.Equal(t, end, st.IngestedOffset)
}

// TestRules_EveryOrder applies every permutation of seven acts (a vote and a
// retraction before their assertion among them), each split into random batches, and
// checks that the tables come out the same.
func TestRules_EveryOrder(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	all := scenario()
	// Two agents sign (0), one retracts (1) and re-signs later (2), votes with a tie (3,
	// 4), a sign and a retract with a tie on another claim (6, 7). Every act can come
	// before its assertion.
	recs := []assertion.Record{all[0], all[1], all[2], all[3], all[4], all[6], all[7]}
	if testing.Short() {
		recs = recs[:6]
	}
	want := applyInTx(t, db, recs, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	permute(len(recs), func(order []int) {
		perm := make([]assertion.Record, len(order))
		for i, j := range order {
			perm[i] = recs[j]
		}
		got := applyInTx(t, db, perm, randomSplits(rng, len(perm)))
		require.Equal(t, want, got, "order %v", order)
		n++
	})
	t.Logf("%d orders", n)
}

// TestRules_Shuffles applies random orders of the whole scenario and of a larger
// generated log, in random batches.
func TestRules_Shuffles(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for name, recs := range map[string][]assertion.Record{
		"scenario":  scenario(),
		"generated": generated(rng, 300),
	} {
		t.Run(name, func(t *testing.T) {
			want := applyInTx(t, db, recs, nil)
			for range 30 {
				perm := append([]assertion.Record(nil), recs...)
				rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				require.Equal(t, want, applyInTx(t, db, perm, randomSplits(rng, len(perm))))
			}
		})
	}
}

// TestRules_Idempotent applies a log twice over: every record again, in another order.
func TestRules_Idempotent(t *testing.T) {
	db := openDB(t, "")
	defer db.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	recs := generated(rng, 200)
	want := applyInTx(t, db, recs, nil)
	twice := append(append([]assertion.Record(nil), recs...), recs...)
	rng.Shuffle(len(twice), func(i, j int) { twice[i], twice[j] = twice[j], twice[i] })
	require.Equal(t, want, applyInTx(t, db, twice, randomSplits(rng, len(twice))))
}

// generated returns n random acts over a few claims, agents and timestamps, so that
// ties, re-signs, retractions and votes before assertions are frequent.
func generated(rng *rand.Rand, n int) []assertion.Record {
	agents := []string{"a0", "a1", "a2", "a3", "a4"}
	var claims []assertion.Claim
	for i := range 6 {
		claims = append(claims, number("s"+string(rune('0'+i%2)), "p", float64(i), 0.5))
	}
	recs := make([]assertion.Record, 0, n)
	for range n {
		c := claims[rng.IntN(len(claims))]
		who := agents[rng.IntN(len(agents))]
		ts := uint64(100 + rng.IntN(4)) // few timestamps: many ties
		var r assertion.Record
		switch rng.IntN(5) {
		case 0, 1:
			other := agents[rng.IntN(len(agents))]
			if other == who {
				r = signed(c, ts, who)
			} else {
				r = signed(c, ts, who, other)
			}
		case 2:
			r = retract(c, who, ts)
		default:
			r = vote(c, who, int8(rng.IntN(3)-1), ts)
		}
		// Now and then the same act with other signature bytes (a signer whose
		// signatures are not deterministic): ingest does not verify, and the tie must
		// still not depend on arrival order.
		if rng.IntN(8) == 0 {
			other := r
			var s assertion.Sig
			for i := range s {
				s[i] = byte(rng.Uint32())
			}
			switch r.Kind {
			case assertion.KindAssert:
				a := r.Assertions[0]
				a.Signatures = append([]assertion.Signature(nil), a.Signatures...)
				a.Signatures[0].Sig = s
				other.Assertions = []assertion.Assertion{a}
			case assertion.KindVote:
				other.Vote.Sig = s
			case assertion.KindRetract:
				other.Retraction.Sig = s
			}
			recs = append(recs, other)
		}
		recs = append(recs, r)
	}
	return recs
}

// randomSplits returns batch sizes that cut n records into random batches.
func randomSplits(rng *rand.Rand, n int) []int {
	var s []int
	for left := n; left > 0; {
		k := 1 + rng.IntN(left)
		s = append(s, k)
		left -= k
	}
	return s
}

// permute calls f with every permutation of 0..n-1 (Heap's algorithm).
func permute(n int, f func([]int)) {
	a := make([]int, n)
	for i := range a {
		a[i] = i
	}
	c := make([]int, n)
	f(a)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				a[0], a[i] = a[i], a[0]
			} else {
				a[c[i]], a[i] = a[i], a[c[i]]
			}
			f(a)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}
