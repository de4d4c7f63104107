package builtin

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// support names how a group-based lens measures a group.
type support int

const (
	distinctSigners      support = iota // Consensus: distinct signing agents
	signersPlusVotes                    // VoteAwareConsensus: distinct signers + sum of (up - down)
	trustTimesConfidence                // TrustWeighted: sum of trust x best confidence per agent
)

// compareSupport orders a before b (-1) when a has more support.
func compareSupport(a, b *objectGroup, s support) int {
	if s == trustTimesConfidence {
		switch {
		case a.trustSum > b.trustSum:
			return -1
		case a.trustSum < b.trustSum:
			return 1
		}
		return 0
	}
	return cmp.Compare(b.intScore, a.intScore)
}

// linearGrouping is the candidate count up to which objects are grouped by comparing
// each candidate with the groups found so far: a (subject, predicate) usually has a
// handful of objects, and this beats sorting there. Past it, sorting keeps the worst
// case (thousands of distinct objects) at n log n.
const linearGrouping = 32

// objectGroups splits g's candidates into groups of equal objects and measures each.
func (r *rules) objectGroups(g *sdk.Group, s support) []objectGroup {
	v := r.prepare(g)
	n := len(v.cands)
	r.groupOf = slices.Grow(r.groupOf[:0], n)[:n]
	r.groups = r.groups[:0]
	if n <= linearGrouping {
		for i := range v.cands {
			found := -1
			for gi := range r.groups {
				if bytes.Equal(v.cands[r.groups[gi].repr].Object, v.cands[i].Object) {
					found = gi
					break
				}
			}
			if found < 0 {
				found = len(r.groups)
				r.groups = append(r.groups, objectGroup{repr: i}) // repr: any member, for now
			}
			r.groupOf[i] = found
		}
	} else {
		r.order = r.order[:0]
		for i := range n {
			r.order = append(r.order, i)
		}
		slices.SortFunc(r.order, func(i, j int) int {
			if c := bytes.Compare(v.cands[i].Object, v.cands[j].Object); c != 0 {
				return c
			}
			return cmp.Compare(i, j)
		})
		for k, i := range r.order {
			if k == 0 || !bytes.Equal(v.cands[r.order[k-1]].Object, v.cands[i].Object) {
				r.groups = append(r.groups, objectGroup{repr: i})
			}
			r.groupOf[i] = len(r.groups) - 1
		}
	}

	// Lay the members out group by group (a counting sort), ascending within a group.
	r.order = slices.Grow(r.order[:0], n)[:n]
	r.offsets = slices.Grow(r.offsets[:0], len(r.groups)+1)[:len(r.groups)+1]
	clear(r.offsets)
	for _, gi := range r.groupOf {
		r.offsets[gi+1]++
	}
	for gi := range r.groups {
		r.offsets[gi+1] += r.offsets[gi]
	}
	for gi := range r.groups {
		r.groups[gi].members = r.order[r.offsets[gi]:r.offsets[gi]:r.offsets[gi+1]]
	}
	for i, gi := range r.groupOf {
		r.groups[gi].members = append(r.groups[gi].members, i)
	}

	if len(r.agentEpoch) < len(g.Agents) {
		r.agentEpoch = make([]uint32, len(g.Agents))
		r.agentBest = make([]float64, len(g.Agents))
		r.epoch = 0
	}
	for gi := range r.groups {
		r.measure(v, g.Agents, &r.groups[gi], s)
	}
	return r.groups
}

// measure fills in one group's tie-break fields, representative and support.
func (r *rules) measure(v *view, agents []sdk.Agent, og *objectGroup, s support) {
	first := og.members[0]
	og.bestConf, og.newest, og.minHash, og.repr = v.cands[first].Confidence, v.cands[first].Latest, first, first
	r.epoch++
	if r.epoch == 0 { // wrapped: stale marks could look current
		clear(r.agentEpoch)
		r.epoch = 1
	}
	r.agents = r.agents[:0]
	var votes int64
	for _, i := range og.members {
		c := &v.cands[i]
		og.bestConf = max(og.bestConf, c.Confidence)
		og.newest = max(og.newest, c.Latest)
		if compareHashes(&c.Hash, &v.cands[og.minHash].Hash) < 0 {
			og.minHash = i
		}
		if ns, nr := len(c.Signers), len(v.cands[og.repr].Signers); ns > nr || ns == nr && v.compareCandidates(i, og.repr) < 0 {
			og.repr = i
		}
		votes += int64(c.Up) - int64(c.Down)
		for _, sg := range c.Signers {
			if r.agentEpoch[sg.Agent] != r.epoch {
				r.agentEpoch[sg.Agent] = r.epoch
				r.agentBest[sg.Agent] = c.Confidence
				r.agents = append(r.agents, sg.Agent)
			} else if c.Confidence > r.agentBest[sg.Agent] {
				r.agentBest[sg.Agent] = c.Confidence
			}
		}
	}
	switch s {
	case distinctSigners:
		og.intScore = int64(len(r.agents))
	case signersPlusVotes:
		og.intScore = int64(len(r.agents)) + votes
	case trustTimesConfidence:
		// Float addition is not associative: summing in agent-index order (which the ABI
		// makes agent-ID order) gives every implementation the same bits.
		slices.Sort(r.agents)
		og.trustSum = 0
		for _, a := range r.agents {
			// The conversion forbids fusing into an FMA (Go spec), which wasm lacks.
			og.trustSum += float64(agents[a].Trust * r.agentBest[a])
		}
	}
}
