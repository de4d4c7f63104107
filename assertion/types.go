package assertion

// Hash is the BLAKE3-256 hash of a claim's bytes: the assertion's identity.
type Hash [32]byte

// AgentID is an agent's Ed25519 public key.
type AgentID [32]byte

// Sig is a raw Ed25519 signature.
type Sig [64]byte

// ObjectType is the object tag of API.md §1.1; its numeric value is the tag byte.
type ObjectType uint8

// The object types of API.md §1.1, numbered by their tag byte.
const (
	TypeString  ObjectType = 1
	TypeNumber  ObjectType = 2
	TypeBoolean ObjectType = 3
	TypeEntity  ObjectType = 4
	TypeTime    ObjectType = 5
	TypeJSON    ObjectType = 6
)

// Object is a claim's object. Exactly one value field is meaningful, chosen by Type:
// Text for String, Entity and Json (canonical RFC 8785 text), Number for Number,
// Bool for Boolean, UnixNano for Time.
type Object struct {
	Type     ObjectType
	Text     string
	Number   float64
	Bool     bool
	UnixNano int64
}

// Claim is what an assertion states; its bytes (API.md §1.1) define its Hash.
type Claim struct {
	Subject    string
	Predicate  string
	Object     Object
	Confidence float64
	Source     Hash // all zero when absent
}

// Signature is one agent's signed assert act over a claim's hash.
type Signature struct {
	Agent     AgentID
	Sig       Sig
	Timestamp uint64 // Unix seconds chosen by the agent
}

// Assertion is a claim with the signatures that accompany one write of it.
type Assertion struct {
	Claim      Claim
	Signatures []Signature
}

// Vote is an agent's signed vote (-1, 0 or 1) on an assertion; 0 withdraws.
type Vote struct {
	Assertion Hash
	Agent     AgentID
	Value     int8
	Timestamp uint64
	Sig       Sig
}

// Retraction is an agent's signed withdrawal of its signature from an assertion.
type Retraction struct {
	Assertion Hash
	Agent     AgentID
	Timestamp uint64
	Sig       Sig
}
