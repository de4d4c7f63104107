// Command badlens is a test lens module whose lenses misbehave on purpose, the way a real
// Go lens would: panic, allocate without end, loop forever, return a bad index.
package main

import (
	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

var sink [][]byte

func init() {
	sdk.Register("First", func(g *sdk.Group) []int {
		if len(g.Candidates) == 0 {
			return nil
		}
		return []int{0}
	})
	sdk.Register("Panic", func(g *sdk.Group) []int { panic("boom") })
	sdk.Register("Hog", func(g *sdk.Group) []int {
		for {
			sink = append(sink, make([]byte, 1<<20))
		}
	})
	sdk.Register("Spin", func(g *sdk.Group) []int {
		n := 0
		for {
			n++
		}
	})
	sdk.Register("BadIndex", func(g *sdk.Group) []int { return []int{len(g.Candidates)} })
}

func main() {}
