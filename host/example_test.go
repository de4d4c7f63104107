package host_test

import (
	"context"
	"fmt"

	"github.com/stemedb/stemedb/host"
)

// Resolve one (subject, predicate) with the built-in Consensus lens.
func ExampleRuntime_LoadBuiltins() {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(cacheDir))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	builtins, err := rt.LoadBuiltins(ctx)
	if err != nil {
		panic(err)
	}
	consensus, err := builtins.Lens("consensus") // names match case-insensitively
	if err != nil {
		panic(err)
	}

	alice, bob := [32]byte{1}, [32]byte{2}
	sign := func(agent [32]byte) []host.Signer {
		return []host.Signer{{Agent: agent, Timestamp: 1764000000, Trust: 1}}
	}
	revenue := host.Group{Subject: "Tesla_Inc", Predicate: "has_revenue", Candidates: []host.Candidate{
		{Hash: [32]byte{0xaa}, Object: []byte("\x02 96.7"), Confidence: 0.95, Signers: sign(alice)},
		{Hash: [32]byte{0xbb}, Object: []byte("\x02 81.5"), Confidence: 0.6, Signers: sign(alice)},
		{Hash: [32]byte{0xcc}, Object: []byte("\x02 81.5"), Confidence: 0.5, Signers: sign(bob)},
	}}
	winners, err := consensus.Resolve(ctx, []host.Group{revenue})
	if err != nil {
		panic(err)
	}
	fmt.Println(consensus.Name(), winners[0])
	// Output: Consensus [1]
}
