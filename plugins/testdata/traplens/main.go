// Command traplens is a test lens module whose only lens, Trap, fails on every input, as
// a lens with a bug on its main path would: it must be refused at upload, not at query
// time.
package main

import "github.com/stemedb/stemedb/lenses-wasm/sdk"

func init() {
	sdk.Register("Trap", func(g *sdk.Group) []int {
		var winners []int
		return winners[:len(g.Candidates)+1] // slice bounds out of range: a runtime panic
	})
}

func main() {}
