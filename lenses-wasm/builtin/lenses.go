package builtin

import (
	"slices"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// Canonical names of the built-in lenses, as the server and the module expose them.
const (
	Latest             = "Latest"
	HighestConfidence  = "HighestConfidence"
	Consensus          = "Consensus"
	VoteAwareConsensus = "VoteAwareConsensus"
	TrustWeighted      = "TrustWeighted"
	All                = "All"
)

// Lenses returns the six built-in lenses in their module order. Each rule owns scratch
// memory that it reuses from group to group, so a rule must not run on two goroutines at
// once (in the guest there is only one).
func Lenses() []sdk.Lens {
	return []sdk.Lens{
		{Name: Latest, Rule: new(rules).latest},
		{Name: HighestConfidence, Rule: new(rules).highestConfidence},
		{Name: Consensus, Rule: new(rules).consensus},
		{Name: VoteAwareConsensus, Rule: new(rules).voteAwareConsensus},
		{Name: TrustWeighted, Rule: new(rules).trustWeighted},
		{Name: All, Rule: new(rules).all},
	}
}

// rules is the scratch memory of one rule: slices grown to the largest group seen.
type rules struct {
	view    view
	order   []int // candidate indices, laid out group by group
	groupOf []int // per candidate: its object group
	offsets []int // per object group: where its members start in order
	groups  []objectGroup
	out     []int

	// Per agent index: the epoch of the group that last saw the agent, and the highest
	// confidence the agent signed in that group. Epochs avoid clearing per group.
	agentEpoch []uint32
	agentBest  []float64
	epoch      uint32
	agents     []uint32 // the distinct agents of the current group
}

func (r *rules) prepare(g *sdk.Group) *view {
	v := &r.view
	v.cands = g.Candidates
	return v
}

func (r *rules) one(i int) []int { return append(r.out[:0], i) }

func (r *rules) latest(g *sdk.Group) []int {
	if len(g.Candidates) == 0 {
		return nil
	}
	v := r.prepare(g)
	best := 0
	for i := 1; i < len(v.cands); i++ {
		if v.compareNewest(i, best) < 0 {
			best = i
		}
	}
	return r.one(best)
}

func (r *rules) highestConfidence(g *sdk.Group) []int {
	if len(g.Candidates) == 0 {
		return nil
	}
	v := r.prepare(g)
	best := 0
	for i := 1; i < len(v.cands); i++ {
		if v.compareCandidates(i, best) < 0 {
			best = i
		}
	}
	return r.one(best)
}

func (r *rules) all(g *sdk.Group) []int {
	v := r.prepare(g)
	r.out = r.out[:0]
	for i := range v.cands {
		r.out = append(r.out, i)
	}
	slices.SortFunc(r.out, v.compareNewest)
	return r.out
}

func (r *rules) consensus(g *sdk.Group) []int { return r.winner(g, distinctSigners) }

func (r *rules) voteAwareConsensus(g *sdk.Group) []int { return r.winner(g, signersPlusVotes) }

func (r *rules) trustWeighted(g *sdk.Group) []int { return r.winner(g, trustTimesConfidence) }

// winner returns the representative of the object group with the most support, groups
// with equal support ordered by the group tie-break.
func (r *rules) winner(g *sdk.Group, s support) []int {
	groups := r.objectGroups(g, s)
	if len(groups) == 0 {
		return nil
	}
	best := &groups[0]
	for i := 1; i < len(groups); i++ {
		if c := compareSupport(&groups[i], best, s); c < 0 || c == 0 && r.view.compareGroups(&groups[i], best) < 0 {
			best = &groups[i]
		}
	}
	if s == signersPlusVotes && best.intScore <= 0 {
		return nil
	}
	return r.one(best.repr)
}
