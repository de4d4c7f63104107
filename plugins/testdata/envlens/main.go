// Command envlens is a test lens module that imports a host function from the "env"
// namespace, which a lens may not: its only host is wasi_snapshot_preview1.
package main

import "github.com/stemedb/stemedb/lenses-wasm/sdk"

//go:wasmimport env now
func now() int64

func init() {
	sdk.Register("Clock", func(g *sdk.Group) []int {
		if now()%2 == 0 && len(g.Candidates) > 0 {
			return []int{0}
		}
		return nil
	})
}

func main() {}
