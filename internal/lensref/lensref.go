package lensref

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/stemedb/stemedb/host"
)

// Lens is one reference lens; it implements host.Resolver.
type Lens struct {
	name string
	pick func(cands []host.Candidate) []int
}

var _ host.Resolver = Lens{}

// New returns the reference lens with the given built-in name (matched case-insensitively).
func New(name string) (Lens, error) {
	picks := map[string]func([]host.Candidate) []int{
		"Latest":             latest,
		"HighestConfidence":  highestConfidence,
		"Consensus":          consensus,
		"VoteAwareConsensus": voteAwareConsensus,
		"TrustWeighted":      trustWeighted,
		"All":                all,
	}
	for canonical, pick := range picks {
		if strings.EqualFold(canonical, name) {
			return Lens{name: canonical, pick: pick}, nil
		}
	}
	return Lens{}, fmt.Errorf("lensref %q: %w", name, host.ErrUnknownLens)
}

// Name is the lens's canonical name.
func (l Lens) Name() string { return l.name }

// Resolve applies the lens to each group independently.
func (l Lens) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	out := make([][]int, len(groups))
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("lensref %s: %w", l.name, err)
		}
		out[i] = l.pick(g.Candidates)
	}
	return out, nil
}

// latestSig is the newest signature timestamp of a candidate.
func latestSig(c host.Candidate) uint64 {
	var newest uint64
	for _, s := range c.Signers {
		if s.Timestamp > newest {
			newest = s.Timestamp
		}
	}
	return newest
}

// candidateBefore is the candidate order: higher confidence, then newer latest
// signature, then smaller hash (then position, which only duplicate hashes reach).
func candidateBefore(cands []host.Candidate, i, j int) bool {
	a, b := cands[i], cands[j]
	if a.Confidence != b.Confidence {
		return a.Confidence > b.Confidence
	}
	if latestSig(a) != latestSig(b) {
		return latestSig(a) > latestSig(b)
	}
	if c := bytes.Compare(a.Hash[:], b.Hash[:]); c != 0 {
		return c < 0
	}
	return i < j
}

// newestBefore orders newest latest signature first, then by candidate order.
func newestBefore(cands []host.Candidate, i, j int) bool {
	if latestSig(cands[i]) != latestSig(cands[j]) {
		return latestSig(cands[i]) > latestSig(cands[j])
	}
	return candidateBefore(cands, i, j)
}

func sortedIndices(cands []host.Candidate, before func([]host.Candidate, int, int) bool) []int {
	idx := make([]int, len(cands))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(x, y int) bool { return before(cands, idx[x], idx[y]) })
	return idx
}

func latest(cands []host.Candidate) []int {
	if len(cands) == 0 {
		return nil
	}
	return sortedIndices(cands, newestBefore)[:1]
}

func highestConfidence(cands []host.Candidate) []int {
	if len(cands) == 0 {
		return nil
	}
	return sortedIndices(cands, candidateBefore)[:1]
}

func all(cands []host.Candidate) []int {
	if len(cands) == 0 {
		return nil
	}
	return sortedIndices(cands, newestBefore)
}
