// Package lenseswasm ships StemeDB's built-in lenses as one prebuilt WASM module
// (builtins.wasm, built from ./cmd/builtins and committed so that `go build` and
// `go install` work without make). The guest SDK for lens authors is ./sdk; the rules of
// the built-ins are ./builtin. The ABI is specified in README.md.
package lenseswasm
