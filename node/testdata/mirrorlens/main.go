// Command mirrorlens is a test lens module holding copies of built-in rules under other
// names, twice each (one name to upload materialized, one not), so that an uploaded
// lens's answers can be checked against the built-in's and timed against it:
// MyConsensus and MyConsensusFly run Consensus's rule, MyAll and MyAllFly run All's.
package main

import (
	"github.com/stemedb/stemedb/lenses-wasm/builtin"
	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

func init() {
	for _, l := range builtin.Lenses() {
		switch l.Name {
		case builtin.Consensus:
			sdk.Register("MyConsensus", l.Rule)
		case builtin.All:
			sdk.Register("MyAll", l.Rule)
		}
	}
	// Second copies: each rule owns scratch memory, so each name gets its own.
	for _, l := range builtin.Lenses() {
		switch l.Name {
		case builtin.Consensus:
			sdk.Register("MyConsensusFly", l.Rule)
		case builtin.All:
			sdk.Register("MyAllFly", l.Rule)
		}
	}
}

func main() {}
