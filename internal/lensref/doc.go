// Package lensref is a plain-Go reference implementation of the six built-in lenses of
// API.md §4, written apart from lenses-wasm/builtin and kept deliberately simple (maps,
// sorting, no reuse), so that it can serve as the oracle of differential tests and as the
// baseline that the WASM lenses are benchmarked against.
package lensref
