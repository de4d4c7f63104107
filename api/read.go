package api

import "github.com/go-json-experiment/json/jsontext"

// ObjectOut is an object in answers: Time in UTC RFC 3339 (Go's RFC3339Nano), Json canonical.
type ObjectOut struct {
	Type  string         `json:"type"`
	Value jsontext.Value `json:"value"`
}

// SignatureOut is one current signer of an assertion.
type SignatureOut struct {
	AgentID   string `json:"agent_id"`
	Signature string `json:"signature"`
	Timestamp uint64 `json:"timestamp"`
}

// Votes counts the counted up and down votes on an assertion.
type Votes struct {
	Up   int `json:"up"`
	Down int `json:"down"`
}

// Assertion is an assertion in answers (API.md §4).
type Assertion struct {
	Hash       string         `json:"hash"`
	Subject    string         `json:"subject"`
	Predicate  string         `json:"predicate"`
	Object     ObjectOut      `json:"object"`
	Confidence float64        `json:"confidence"`
	SourceHash *string        `json:"source_hash"`
	Signatures []SignatureOut `json:"signatures"`
	Votes      Votes          `json:"votes"`
	Retracted  bool           `json:"retracted"`
	Offset     uint64         `json:"offset"`
}

// QueryResult answers GET /v1/query.
type QueryResult struct {
	Lens               string      `json:"lens"`
	Assertions         []Assertion `json:"assertions"`
	TotalCount         int64       `json:"total_count"`
	HasMore            bool        `json:"has_more"`
	NextCursor         *string     `json:"next_cursor"`
	MaterializedOffset uint64      `json:"materialized_offset"`
	Stale              bool        `json:"stale"`
}

// Status answers GET /v1/status. The first four members are pinned by API.md §7.
type Status struct {
	LogOffset          uint64 `json:"log_offset"`
	IngestedOffset     uint64 `json:"ingested_offset"`
	MaterializedOffset uint64 `json:"materialized_offset"`
	Assertions         int64  `json:"assertions"`
	// Extras for operators.
	Groups       int64          `json:"groups"`
	DirtyGroups  int64          `json:"dirty_groups"`
	IngestError  string         `json:"ingest_error,omitempty"`
	Lenses       []LensStatus   `json:"lenses,omitempty"`
	Log          map[string]any `json:"log,omitempty"`
	UptimeSecond float64        `json:"uptime_seconds"`
}

// LensStatus is one lens as status and GET /v1/lenses show it.
type LensStatus struct {
	Name         string          `json:"name"`
	Version      int             `json:"version"`
	Hash         string          `json:"hash"`
	BuiltIn      bool            `json:"builtin"`
	Materialized bool            `json:"materialized"`
	State        string          `json:"state,omitempty"`
	Failures     int64           `json:"failures,omitempty"`
	Backfill     *BackfillStatus `json:"backfill,omitempty"`
}

// BackfillStatus is the progress of materializing a lens over every existing group.
type BackfillStatus struct {
	Done     int64  `json:"done"`
	Total    int64  `json:"total"`
	Running  bool   `json:"running"`
	Finished bool   `json:"finished"`
	Error    string `json:"error,omitempty"`
}
