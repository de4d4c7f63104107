// Command builtins is the WASM module of StemeDB's six built-in lenses. Build it as a
// reactor (see lenses-wasm/README.md); the result is committed as lenses-wasm/builtins.wasm.
package main

import (
	"github.com/stemedb/stemedb/lenses-wasm/builtin"
	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

func init() {
	for _, l := range builtin.Lenses() {
		sdk.Register(l.Name, l.Rule)
	}
}

// main is never called in a reactor (-buildmode=c-shared); Go requires it all the same.
func main() {}
