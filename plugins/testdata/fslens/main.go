// Command fslens is a test lens module that opens files through WASI's path_open, which
// a lens may not import: lenses get no file system.
package main

import (
	"unsafe"

	"github.com/stemedb/stemedb/lenses-wasm/sdk"
)

//go:wasmimport wasi_snapshot_preview1 path_open
func pathOpen(dirFD, dirFlags int32, path unsafe.Pointer, pathLen, oFlags int32, rightsBase, rightsInheriting int64, fdFlags int32, fd unsafe.Pointer) int32

func init() {
	sdk.Register("Snoop", func(g *sdk.Group) []int {
		path := []byte(g.Subject)
		if len(path) == 0 || len(g.Candidates) == 0 {
			return nil
		}
		var fd int32
		if pathOpen(3, 0, unsafe.Pointer(&path[0]), int32(len(path)), 0, 1, 0, 0, unsafe.Pointer(&fd)) == 0 {
			return []int{0}
		}
		return nil
	})
}

func main() {}
