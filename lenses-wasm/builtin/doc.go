// Package builtin holds the rules of StemeDB's six built-in lenses (API.md §4: Latest,
// HighestConfidence, Consensus, VoteAwareConsensus, TrustWeighted, All) as plain Go over
// the guest SDK's types, so that they are tested natively and compiled unchanged into
// the built-in WASM module (lenses-wasm/cmd/builtins).
package builtin
