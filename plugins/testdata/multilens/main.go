// Command multilens is a test lens module holding several lenses, the way a user would
// ship related rules in one module: Pick (the most confident candidate, ties by the
// smallest hash), Nobody (never a winner) and Fragile (Pick, except that it fails on any
// group whose subject starts with "boom", to exercise failure tracking).
package main

import (
	"bytes"
	"strings"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

func init() {
	sdk.Register("Pick", pick)
	sdk.Register("Nobody", func(*sdk.Group) []int { return nil })
	sdk.Register("Fragile", func(g *sdk.Group) []int {
		if strings.HasPrefix(g.Subject, "boom") {
			panic("fragile: cannot handle " + g.Subject)
		}
		return pick(g)
	})
}

func pick(g *sdk.Group) []int {
	best := -1
	for i := range g.Candidates {
		c := &g.Candidates[i]
		if best < 0 {
			best = i
			continue
		}
		b := &g.Candidates[best]
		if c.Confidence > b.Confidence || c.Confidence == b.Confidence && bytes.Compare(c.Hash[:], b.Hash[:]) < 0 {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return []int{best}
}

func main() {}
