// Command median-lens is an example StemeDB lens: Median picks, among the numbers that
// agents claim for a (subject, predicate), the candidate holding the median value, each
// candidate counted once per signer. Build it as a WASI reactor and upload it (README.md).
package main

import "github.com/stemedb/stemedb/lenses-wasm/sdk"

// Lenses register in init: a reactor's main never runs.
func init() { sdk.Register("Median", Median) }

func main() {}
