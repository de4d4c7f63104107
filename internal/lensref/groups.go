package lensref

import (
	"bytes"
	"sort"

	"github.com/stemedb/stemedb/host"
)

// objectGroup is the candidates sharing one object.
type objectGroup struct {
	members []int // candidate indices
}

// groupsOf splits candidates by object bytes.
func groupsOf(cands []host.Candidate) []objectGroup {
	byObject := map[string]*objectGroup{}
	var groups []*objectGroup
	for i, c := range cands {
		g, ok := byObject[string(c.Object)]
		if !ok {
			g = &objectGroup{}
			byObject[string(c.Object)] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
	}
	out := make([]objectGroup, len(groups))
	for i, g := range groups {
		out[i] = *g
	}
	return out
}

// groupBefore is the group tie-break: higher best confidence, then newer latest
// signature in the group, then the smallest hash in the group.
func groupBefore(cands []host.Candidate, a, b objectGroup) bool {
	bestConf := func(g objectGroup) float64 {
		best := cands[g.members[0]].Confidence
		for _, i := range g.members {
			if cands[i].Confidence > best {
				best = cands[i].Confidence
			}
		}
		return best
	}
	newest := func(g objectGroup) uint64 {
		var n uint64
		for _, i := range g.members {
			if latestSig(cands[i]) > n {
				n = latestSig(cands[i])
			}
		}
		return n
	}
	smallestHash := func(g objectGroup) []byte {
		h := cands[g.members[0]].Hash
		for _, i := range g.members {
			if bytes.Compare(cands[i].Hash[:], h[:]) < 0 {
				h = cands[i].Hash
			}
		}
		return h[:]
	}
	if bestConf(a) != bestConf(b) {
		return bestConf(a) > bestConf(b)
	}
	if newest(a) != newest(b) {
		return newest(a) > newest(b)
	}
	return bytes.Compare(smallestHash(a), smallestHash(b)) < 0
}

// representative is the group's candidate with the most signers, ties by candidate order.
func representative(cands []host.Candidate, g objectGroup) int {
	members := append([]int(nil), g.members...)
	sort.Slice(members, func(x, y int) bool {
		a, b := members[x], members[y]
		if len(cands[a].Signers) != len(cands[b].Signers) {
			return len(cands[a].Signers) > len(cands[b].Signers)
		}
		return candidateBefore(cands, a, b)
	})
	return members[0]
}

// distinctAgents maps each agent signing in the group to the highest confidence it
// signed there, and its trust.
func distinctAgents(cands []host.Candidate, g objectGroup) map[[32]byte]agentSupport {
	agents := map[[32]byte]agentSupport{}
	for _, i := range g.members {
		for _, s := range cands[i].Signers {
			a, ok := agents[s.Agent]
			if !ok {
				a = agentSupport{trust: s.Trust, bestConf: cands[i].Confidence}
			} else if cands[i].Confidence > a.bestConf {
				a.bestConf = cands[i].Confidence
			}
			agents[s.Agent] = a
		}
	}
	return agents
}

type agentSupport struct {
	trust, bestConf float64
}

// bestGroup returns the group with the highest score, ties by the group tie-break.
func bestGroup(cands []host.Candidate, score func(objectGroup) float64) (objectGroup, float64, bool) {
	groups := groupsOf(cands)
	if len(groups) == 0 {
		return objectGroup{}, 0, false
	}
	best, bestScore := groups[0], score(groups[0])
	for _, g := range groups[1:] {
		s := score(g)
		if s > bestScore || s == bestScore && groupBefore(cands, g, best) {
			best, bestScore = g, s
		}
	}
	return best, bestScore, true
}

func consensus(cands []host.Candidate) []int {
	g, _, ok := bestGroup(cands, func(g objectGroup) float64 {
		return float64(len(distinctAgents(cands, g)))
	})
	if !ok {
		return nil
	}
	return []int{representative(cands, g)}
}

func voteAwareConsensus(cands []host.Candidate) []int {
	g, score, ok := bestGroup(cands, func(g objectGroup) float64 {
		votes := 0
		for _, i := range g.members {
			votes += int(cands[i].Up) - int(cands[i].Down)
		}
		return float64(len(distinctAgents(cands, g)) + votes)
	})
	if !ok || score <= 0 {
		return nil
	}
	return []int{representative(cands, g)}
}

func trustWeighted(cands []host.Candidate) []int {
	g, _, ok := bestGroup(cands, func(g objectGroup) float64 {
		agents := distinctAgents(cands, g)
		ids := make([][32]byte, 0, len(agents))
		for id := range agents {
			ids = append(ids, id)
		}
		// Summation order fixes the float result; agent-ID order is what the ABI gives
		// WASM lenses.
		sort.Slice(ids, func(x, y int) bool { return bytes.Compare(ids[x][:], ids[y][:]) < 0 })
		sum := 0.0
		for _, id := range ids {
			sum += float64(agents[id].trust * agents[id].bestConf)
		}
		return sum
	})
	if !ok {
		return nil
	}
	return []int{representative(cands, g)}
}
