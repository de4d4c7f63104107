package host

import "context"

// Signer is a current signer of a candidate.
type Signer struct {
	Agent     [32]byte // Ed25519 public key
	Timestamp uint64   // Unix seconds of the agent's signature
	// Trust is the agent's trust, taken as given: the caller fills in the default (1.0)
	// for agents without one. An agent carries one trust per call; if it appears with
	// several values, the first one seen is used.
	Trust float64
}

// Candidate is one non-retracted assertion of a (subject, predicate).
type Candidate struct {
	Hash       [32]byte
	Object     []byte // tag byte + canonical value bytes: equal bytes mean the same object
	Confidence float64
	Signers    []Signer
	Up, Down   uint32 // counted votes
}

// Group is one (subject, predicate) to resolve; Candidates may come in any order.
type Group struct {
	Subject    string
	Predicate  string
	Candidates []Candidate
}

// Resolver resolves groups: for each group, the winners as indices into its Candidates,
// in the lens's rank order (possibly none). WASM lenses (*Lens) and the plain-Go
// reference lenses implement it.
type Resolver interface {
	Resolve(ctx context.Context, groups []Group) ([][]int, error)
}
