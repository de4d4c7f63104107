package api

import "time"

// Lens describes a lens in service (GET /v1/lenses, GET /v1/lenses/{name}, and the
// answer of POST /v1/lenses). name, version and hash are pinned by API.md §5; the rest
// is for operators.
type Lens struct {
	Name         string `json:"name"`    // canonical name
	Version      int    `json:"version"` // 1 for built-ins; uploads count from 1
	Hash         string `json:"hash"`    // BLAKE3-256 of the module, lowercase hex
	BuiltIn      bool   `json:"builtin"`
	Materialized bool   `json:"materialized"`
	// ModuleLens is the lens inside the module that this name runs (a module may hold
	// several).
	ModuleLens string     `json:"module_lens"`
	UploadedAt *time.Time `json:"uploaded_at,omitempty"` // absent for built-ins
	// State is "live", or "failed": the lens kept failing and is out of service until
	// the name is uploaded again (LastError says why).
	State string `json:"state"`
	// Failures counts consecutive failed calls since the last success (queries and the
	// materializer alike); MaxFailures of them mark an upload failed.
	Failures  int    `json:"failures"`
	LastError string `json:"last_error,omitempty"`
	// Serving says where queries through this lens are answered from: "resolved" (the
	// materialized rows) or "on_the_fly" (computed per query from the candidates: a
	// lens that is not materialized, or whose backfill has not finished).
	Serving string `json:"serving"`
	// Backfill is the progress of materializing the lens over every existing group, when
	// one ran since the server started.
	Backfill *BackfillStatus `json:"backfill,omitempty"`
	// FailedGroups counts the groups the materializer's calls of this lens failed on
	// since the server started (each is retried later).
	FailedGroups int64 `json:"failed_groups"`
	// Versions is the name's history, oldest first (GET /v1/lenses/{name} only).
	Versions []LensVersion `json:"versions,omitempty"`
}

// Where queries through a lens are answered from (Lens.Serving).
const (
	ServingResolved = "resolved"
	ServingOnTheFly = "on_the_fly"
)

// LensVersion is one upload of a name.
type LensVersion struct {
	Version      int        `json:"version"`
	Hash         string     `json:"hash"`
	ModuleLens   string     `json:"module_lens"`
	Size         int        `json:"size"` // bytes of the module
	UploadedAt   *time.Time `json:"uploaded_at,omitempty"`
	Materialized bool       `json:"materialized"`
	Live         bool       `json:"live"`             // the version in service
	Failed       string     `json:"failed,omitempty"` // why it was taken out of service
	FailedAt     *time.Time `json:"failed_at,omitempty"`
}

// LensList answers GET /v1/lenses.
type LensList struct {
	Lenses []Lens `json:"lenses"`
}

// LensTestGroups is the optional JSON part of POST /v1/lenses/test: groups to run the
// module on instead of stored ones.
type LensTestGroups struct {
	Groups []LensTestGroup `json:"groups"`
}

// LensTestGroup is one (subject, predicate) and its candidates, as a lens sees them.
type LensTestGroup struct {
	Subject    *string             `json:"subject"`
	Predicate  *string             `json:"predicate"`
	Candidates []LensTestCandidate `json:"candidates"`
}

// LensTestCandidate is one candidate of a test group. Hash defaults to the claim's hash
// (subject, predicate, object, confidence, no source); signers need no signatures.
type LensTestCandidate struct {
	Hash       *string          `json:"hash,omitempty"`
	Object     *ObjectJSON      `json:"object"`
	Confidence *float64         `json:"confidence"`
	Signers    []LensTestSigner `json:"signers"`
	Votes      *Votes           `json:"votes,omitempty"`
}

// LensTestSigner is a current signer of a test candidate. Trust defaults to 1.0.
type LensTestSigner struct {
	AgentID   *string  `json:"agent_id"`
	Timestamp *uint64  `json:"timestamp"`
	Trust     *float64 `json:"trust,omitempty"`
}

// LensTestResult answers POST /v1/lenses/test: what the module's lens would choose for
// each group, next to what the comparison lens chooses.
type LensTestResult struct {
	ModuleLens string `json:"module_lens,omitempty"` // the lens asked for, if one was
	Hash       string `json:"hash"`                  // BLAKE3-256 of the module
	Compare    string `json:"compare"`               // the comparison lens's canonical name
	// Source is "stored" (groups read from the database by subject/predicate) or
	// "request" (groups given in the request).
	Source  string `json:"source"`
	Groups  int    `json:"groups"`   // groups run
	Differ  int    `json:"differ"`   // groups where the two lenses' winners differ
	HasMore bool   `json:"has_more"` // more stored groups matched than limit
	// Results has one entry per group, in (subject, predicate) order for stored groups,
	// in request order otherwise.
	Results []LensTestGroupResult `json:"results"`
}

// LensTestGroupResult is one group of a dry run.
type LensTestGroupResult struct {
	Subject    string         `json:"subject"`
	Predicate  string         `json:"predicate"`
	Candidates int            `json:"candidates"`
	Winners    []LensTestPick `json:"winners"` // the module's lens, in its order
	Current    []LensTestPick `json:"current"` // the comparison lens, in its order
	Same       bool           `json:"same"`    // same winners in the same order
}

// LensTestPick is one winner of a dry run.
type LensTestPick struct {
	Index      int       `json:"index"` // position among the group's candidates as sent
	Hash       string    `json:"hash"`
	Object     ObjectOut `json:"object"`
	Confidence float64   `json:"confidence"`
}
