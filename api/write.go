package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/assertion"
)

// AssertRequest is the body of POST /v1/assert and one item of a batch. Required members
// are pointers so that "missing" and "zero" stay apart.
type AssertRequest struct {
	Subject    *string         `json:"subject"`
	Predicate  *string         `json:"predicate"`
	Object     *ObjectJSON     `json:"object"`
	Confidence *float64        `json:"confidence"`
	Signatures []SignatureJSON `json:"signatures"`
	SourceHash *string         `json:"source_hash,omitempty"`
}

// ObjectJSON is a claim's object on the wire: a type name and a JSON value.
type ObjectJSON struct {
	Type  *string        `json:"type"`
	Value jsontext.Value `json:"value"`
}

// SignatureJSON is one agent's signature on the wire.
type SignatureJSON struct {
	AgentID   *string `json:"agent_id"`
	Signature *string `json:"signature"`
	Timestamp *uint64 `json:"timestamp"`
}

// BatchRequest is the body of POST /v1/assert/batch. Items stay raw so that every bad item
// can be reported by index, not just the first.
type BatchRequest struct {
	Assertions []jsontext.Value `json:"assertions"`
}

// VoteRequest is the body of POST /v1/vote.
type VoteRequest struct {
	AssertionHash *string `json:"assertion_hash"`
	AgentID       *string `json:"agent_id"`
	Vote          *int8   `json:"vote"`
	Timestamp     *uint64 `json:"timestamp"`
	Signature     *string `json:"signature"`
}

// RetractRequest is the body of POST /v1/retract.
type RetractRequest struct {
	AssertionHash *string `json:"assertion_hash"`
	AgentID       *string `json:"agent_id"`
	Timestamp     *uint64 `json:"timestamp"`
	Signature     *string `json:"signature"`
}

// AssertResult answers POST /v1/assert.
type AssertResult struct {
	Hash   string `json:"hash"`
	Status string `json:"status"`
	Offset uint64 `json:"offset"`
}

// BatchItemResult is one item of a batch's answer.
type BatchItemResult struct {
	Hash   string `json:"hash"`
	Status string `json:"status"`
}

// BatchResult answers POST /v1/assert/batch.
type BatchResult struct {
	Results []BatchItemResult `json:"results"`
	Offset  uint64            `json:"offset"`
}

// RecordedResult answers POST /v1/vote and POST /v1/retract.
type RecordedResult struct {
	Status string `json:"status"`
	Offset uint64 `json:"offset"`
}

// Statuses in write answers.
const (
	StatusCreated  = "created"
	StatusRecorded = "recorded"
)

// ToAssertion converts and validates a decoded request. It checks shape only; signatures
// are verified by the caller, once each. The error is always an *Error.
func (r *AssertRequest) ToAssertion(lim assertion.Limits, now time.Time) (assertion.Assertion, error) {
	var a assertion.Assertion
	switch {
	case r.Subject == nil:
		return a, Errorf(CodeInvalidRequest, "subject is required")
	case r.Predicate == nil:
		return a, Errorf(CodeInvalidRequest, "predicate is required")
	case r.Object == nil:
		return a, Errorf(CodeInvalidRequest, "object is required")
	case r.Object.Type == nil:
		return a, Errorf(CodeInvalidRequest, "object.type is required")
	case r.Object.Value == nil:
		return a, Errorf(CodeInvalidRequest, "object.value is required")
	case r.Confidence == nil:
		return a, Errorf(CodeInvalidRequest, "confidence is required")
	case len(r.Signatures) == 0:
		return a, Errorf(CodeInvalidRequest, "signatures: at least one is required")
	case len(r.Signatures) > lim.MaxSignatures:
		return a, Errorf(CodeInvalidRequest, "signatures: at most %d are allowed", lim.MaxSignatures)
	}
	obj, err := assertion.ParseObject(*r.Object.Type, r.Object.Value, lim)
	if err != nil {
		return a, fromDomain(err) // its message already names object.type or object.value
	}
	a.Claim = assertion.Claim{
		Subject:    *r.Subject,
		Predicate:  *r.Predicate,
		Object:     obj,
		Confidence: *r.Confidence,
	}
	if r.SourceHash != nil {
		if a.Claim.Source, err = assertion.ParseHash(*r.SourceHash); err != nil {
			return a, Errorf(CodeInvalidRequest, "source_hash: %v", err)
		}
	}
	a.Signatures = make([]assertion.Signature, len(r.Signatures))
	for i, s := range r.Signatures {
		sig, err := s.toSignature()
		if err != nil {
			return a, prefix(err, fmt.Sprintf("signatures[%d]", i))
		}
		a.Signatures[i] = sig
	}
	if err := a.Validate(lim, now); err != nil {
		return a, fromDomain(err)
	}
	return a, nil
}

func (s *SignatureJSON) toSignature() (assertion.Signature, error) {
	var sig assertion.Signature
	switch {
	case s.AgentID == nil:
		return sig, Errorf(CodeInvalidRequest, "agent_id is required")
	case s.Signature == nil:
		return sig, Errorf(CodeInvalidRequest, "signature is required")
	case s.Timestamp == nil:
		return sig, Errorf(CodeInvalidRequest, "timestamp is required")
	}
	var err error
	if sig.Agent, err = assertion.ParseAgentID(*s.AgentID); err != nil {
		return sig, Errorf(CodeInvalidSignature, "agent_id: %v", err)
	}
	if sig.Sig, err = assertion.ParseSig(*s.Signature); err != nil {
		return sig, Errorf(CodeInvalidSignature, "signature: %v", err)
	}
	sig.Timestamp = *s.Timestamp
	return sig, nil
}

// ToVote converts and validates a decoded vote; the signature is verified by the caller.
func (r *VoteRequest) ToVote(lim assertion.Limits, now time.Time) (assertion.Vote, error) {
	var v assertion.Vote
	if r.Vote == nil {
		return v, Errorf(CodeInvalidRequest, "vote is required")
	}
	h, agent, ts, sig, err := parseAct(r.AssertionHash, r.AgentID, r.Timestamp, r.Signature)
	if err != nil {
		return v, err
	}
	v = assertion.Vote{Assertion: h, Agent: agent, Value: *r.Vote, Timestamp: ts, Sig: sig}
	if err := v.Validate(lim, now); err != nil {
		return v, fromDomain(err)
	}
	return v, nil
}

// ToRetraction converts and validates a decoded retraction; the signature is verified by
// the caller.
func (r *RetractRequest) ToRetraction(lim assertion.Limits, now time.Time) (assertion.Retraction, error) {
	var rt assertion.Retraction
	h, agent, ts, sig, err := parseAct(r.AssertionHash, r.AgentID, r.Timestamp, r.Signature)
	if err != nil {
		return rt, err
	}
	rt = assertion.Retraction{Assertion: h, Agent: agent, Timestamp: ts, Sig: sig}
	if err := rt.Validate(lim, now); err != nil {
		return rt, fromDomain(err)
	}
	return rt, nil
}

// parseAct reads the members that votes and retractions share.
func parseAct(hash, agentID *string, ts *uint64, signature *string) (h assertion.Hash, agent assertion.AgentID, t uint64, sig assertion.Sig, err error) {
	switch {
	case hash == nil:
		return h, agent, t, sig, Errorf(CodeInvalidRequest, "assertion_hash is required")
	case agentID == nil:
		return h, agent, t, sig, Errorf(CodeInvalidRequest, "agent_id is required")
	case ts == nil:
		return h, agent, t, sig, Errorf(CodeInvalidRequest, "timestamp is required")
	case signature == nil:
		return h, agent, t, sig, Errorf(CodeInvalidRequest, "signature is required")
	}
	if h, err = assertion.ParseHash(*hash); err != nil {
		return h, agent, t, sig, Errorf(CodeInvalidRequest, "assertion_hash: %v", err)
	}
	if agent, err = assertion.ParseAgentID(*agentID); err != nil {
		return h, agent, t, sig, Errorf(CodeInvalidSignature, "agent_id: %v", err)
	}
	if sig, err = assertion.ParseSig(*signature); err != nil {
		return h, agent, t, sig, Errorf(CodeInvalidSignature, "signature: %v", err)
	}
	return h, agent, *ts, sig, nil
}

// FromDomain maps an error of the assertion package to its wire code.
func FromDomain(err error) *Error { return fromDomain(err) }

func fromDomain(err error) *Error {
	if e, ok := AsError(err); ok {
		return e
	}
	switch {
	case errors.Is(err, assertion.ErrSignature):
		return Errorf(CodeInvalidSignature, "%v", err)
	case errors.Is(err, assertion.ErrJSONType):
		return Errorf(CodeInvalidJSON, "%v", err)
	}
	return Errorf(CodeInvalidRequest, "%v", err)
}

func prefix(err error, where string) error {
	if e, ok := AsError(err); ok {
		return &Error{Code: e.Code, Message: where + "." + e.Message}
	}
	return fmt.Errorf("%s: %w", where, err)
}
