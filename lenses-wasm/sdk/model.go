package sdk

// Agent is one entry of a batch's agent table. The table is sorted by ID (bytewise) and
// holds each agent once, so an agent index orders agents the same way their IDs do.
type Agent struct {
	ID    [32]byte // Ed25519 public key
	Trust float64  // the agent's trust, as the host configured it (1.0 by default)
}

// Signer is a current signer of a candidate.
type Signer struct {
	Agent     uint32  // index into Group.Agents: equal index means the same agent
	Timestamp uint64  // Unix seconds of the agent's signature
	Trust     float64 // Group.Agents[Agent].Trust, copied here for convenience
}

// Candidate is one non-retracted assertion of the group's (subject, predicate).
type Candidate struct {
	Hash       [32]byte // the assertion hash
	Object     []byte   // tag byte + canonical value bytes: equal bytes mean the same object
	Confidence float64
	Latest     uint64   // the newest signature timestamp among Signers (0 without signers)
	Signers    []Signer // at least one for a live assertion; no agent twice
	Up, Down   uint32   // counted up and down votes
}

// Group is one (subject, predicate) to resolve. Candidates come in no particular order: a
// rule must give the same winners whatever the order (break every tie on the data).
//
// A Group and everything it points to (strings and byte slices included) is only valid
// during the call of the rule: the SDK reuses the memory for the next group and batch.
// Copy what you need to keep (a lens should keep nothing anyway: lenses are pure).
type Group struct {
	Subject    string
	Predicate  string
	Candidates []Candidate
	Agents     []Agent // the batch's agent table, shared by all groups of a batch
}
