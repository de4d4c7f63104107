package builtin

import (
	"cmp"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// view is the candidates of one group, with the orders the rules use.
type view struct {
	cands []sdk.Candidate
}

// compareCandidates orders candidates i and j by candidate order: higher confidence,
// then newer latest signature, then smaller hash. The index is a last resort that only
// two copies of one assertion could reach; it keeps the order total.
func (v *view) compareCandidates(i, j int) int {
	a, b := &v.cands[i], &v.cands[j]
	if a.Confidence != b.Confidence {
		if a.Confidence > b.Confidence {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(b.Latest, a.Latest); c != 0 {
		return c
	}
	if c := compareHashes(&a.Hash, &b.Hash); c != 0 {
		return c
	}
	return cmp.Compare(i, j)
}

// compareNewest orders by newest latest signature first, then candidate order.
func (v *view) compareNewest(i, j int) int {
	if c := cmp.Compare(v.cands[j].Latest, v.cands[i].Latest); c != 0 {
		return c
	}
	return v.compareCandidates(i, j)
}

// objectGroup is the candidates with one object, with what the group tie-break needs.
type objectGroup struct {
	members  []int // candidate indices, ascending
	bestConf float64
	newest   uint64
	minHash  int     // the candidate with the group's smallest hash
	repr     int     // the representative: most signers, ties by candidate order
	intScore int64   // support for Consensus and VoteAwareConsensus
	trustSum float64 // support for TrustWeighted
}

// compareGroups orders groups by the tie-break of API.md §4, best first: higher best
// confidence, then newer latest signature, then smallest hash.
func (v *view) compareGroups(a, b *objectGroup) int {
	if a.bestConf != b.bestConf {
		if a.bestConf > b.bestConf {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(b.newest, a.newest); c != 0 {
		return c
	}
	if c := compareHashes(&v.cands[a.minHash].Hash, &v.cands[b.minHash].Hash); c != 0 {
		return c
	}
	return cmp.Compare(a.minHash, b.minHash)
}

// compareHashes is bytes.Compare for hashes, written out because a call costs far more
// than the usual one-byte comparison in Go's wasm code (random hashes differ early).
func compareHashes(a, b *[32]byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
