package host

import (
	"context"
	"fmt"

	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// BuiltinNames are the canonical names of the built-in lenses (API.md §4), in the order
// of the built-in module.
func BuiltinNames() []string {
	return []string{"Latest", "HighestConfidence", "Consensus", "VoteAwareConsensus", "TrustWeighted", "All"}
}

// LoadBuiltins loads the built-in lens module embedded in lenses-wasm as a trusted module
// and checks that it holds exactly the built-in lenses.
func (r *Runtime) LoadBuiltins(ctx context.Context) (*Module, error) {
	m, err := r.LoadTrusted(ctx, lenseswasm.Builtins())
	if err != nil {
		return nil, fmt.Errorf("load builtins: %w", err)
	}
	want := BuiltinNames()
	got := m.info.Lenses
	if len(got) != len(want) {
		_ = m.Close(ctx)
		return nil, fmt.Errorf("load builtins: module has lenses %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			_ = m.Close(ctx)
			return nil, fmt.Errorf("load builtins: module has lenses %v, want %v", got, want)
		}
	}
	return m, nil
}
