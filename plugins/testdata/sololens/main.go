// Command sololens is a test lens module with exactly one lens, Solo (the candidate with
// the smallest hash), so that it may be uploaded under any name. Built without
// -buildmode=c-shared it is also the command module (it exports _start) a lens must not be.
package main

import (
	"bytes"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

func init() {
	sdk.Register("Solo", func(g *sdk.Group) []int {
		best := -1
		for i := range g.Candidates {
			if best < 0 || bytes.Compare(g.Candidates[i].Hash[:], g.Candidates[best].Hash[:]) < 0 {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		return []int{best}
	})
}

func main() {}
