package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

// tagNumber is the object tag of a Number (API.md §1.1): the tag byte, then the f64's
// eight bytes, big-endian.
const tagNumber = 2

// Median returns the candidate holding the weighted median of the group's numbers: sort
// the Number candidates by value, give each the weight of its signers (a co-signed
// reading counts for each agent that vouches for it), and pick the first one at which
// the running weight reaches half the total. One wild outlier cannot move the answer the
// way it moves a mean, or wins a "most confident" vote.
//
// Candidates that are not numbers are ignored; a group without numbers has no winner.
// Equal values are ordered by hash, so that the answer never depends on the order the
// candidates arrive in (a lens must be deterministic).
func Median(g *sdk.Group) []int {
	type num struct {
		index  int
		value  float64
		weight int
	}
	var nums []num
	total := 0
	for i := range g.Candidates {
		c := &g.Candidates[i]
		if len(c.Object) != 9 || c.Object[0] != tagNumber {
			continue
		}
		w := max(len(c.Signers), 1)
		nums = append(nums, num{index: i, value: math.Float64frombits(binary.BigEndian.Uint64(c.Object[1:])), weight: w})
		total += w
	}
	if len(nums) == 0 {
		return nil
	}
	slices.SortFunc(nums, func(a, b num) int {
		if a.value != b.value {
			if a.value < b.value {
				return -1
			}
			return 1
		}
		return bytes.Compare(g.Candidates[a.index].Hash[:], g.Candidates[b.index].Hash[:])
	})
	running := 0
	for _, n := range nums {
		running += n.weight
		if 2*running >= total {
			return []int{n.index}
		}
	}
	return []int{nums[len(nums)-1].index} // not reached: the running weight ends at total
}
