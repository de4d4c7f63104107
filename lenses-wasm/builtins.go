package lenseswasm

import _ "embed"

//go:embed builtins.wasm
var builtins []byte

// Builtins returns the built-in lens module (ABI v1) holding Latest, HighestConfidence,
// Consensus, VoteAwareConsensus, TrustWeighted and All. The slice is shared: do not
// modify it.
func Builtins() []byte { return builtins }

// BuildCommand is the reproducible build of builtins.wasm, run from the repository root;
// CI rebuilds with it and compares bytes.
const BuildCommand = "GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags='-buildid= -s -w' -o lenses-wasm/builtins.wasm ./lenses-wasm/cmd/builtins"
