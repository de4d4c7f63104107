package host

import (
	"testing"

	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// FuzzScanModule feeds arbitrary bytes to the section scanner that reads uploaded
// modules before any compile work: it must never panic, and what it accepts must be
// self-consistent (every import and export named, memory minimums counted in pages).
func FuzzScanModule(f *testing.F) {
	builtins := lenseswasm.Builtins()
	f.Add(builtins[:min(len(builtins), 4096)])
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	// An import section with one function import of wasi_snapshot_preview1.fd_write.
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x20\x01\x16wasi_snapshot_preview1\x08fd_write\x00\x00"))
	// A memory section with one memory of minimum 2 pages, and an export of it.
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x02\x07\x0a\x01\x06memory\x02\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\xff\xff\xff\xff\x0f"))
	f.Add([]byte("\x00asm\x02\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, bin []byte) {
		shape, err := scanModule(bin)
		if err != nil {
			return
		}
		for _, imp := range shape.imports {
			if imp.module == "" && imp.name == "" && imp.kind > kindTag {
				t.Fatalf("import with neither names nor a known kind: %+v", imp)
			}
		}
		for _, m := range shape.memoryMins {
			if m > 1<<32 {
				t.Fatalf("memory minimum %d pages is beyond what the format allows", m)
			}
		}
	})
}
