package api

import (
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/assertion"
)

// NewAssertRequest is the wire form of a signed assertion, as a client sends it.
func NewAssertRequest(a *assertion.Assertion) *AssertRequest {
	typ := a.Claim.Object.TypeName()
	conf := a.Claim.Confidence
	req := &AssertRequest{
		Subject:    &a.Claim.Subject,
		Predicate:  &a.Claim.Predicate,
		Object:     &ObjectJSON{Type: &typ, Value: jsontext.Value(a.Claim.Object.AppendJSONValue(nil))},
		Confidence: &conf,
		Signatures: make([]SignatureJSON, len(a.Signatures)),
	}
	if a.Claim.Source != (assertion.Hash{}) {
		src := a.Claim.Source.String()
		req.SourceHash = &src
	}
	for i, s := range a.Signatures {
		agent, sig, ts := s.Agent.String(), s.Sig.String(), s.Timestamp
		req.Signatures[i] = SignatureJSON{AgentID: &agent, Signature: &sig, Timestamp: &ts}
	}
	return req
}

// NewVoteRequest is the wire form of a signed vote.
func NewVoteRequest(v *assertion.Vote) *VoteRequest {
	h, agent, sig, vote, ts := v.Assertion.String(), v.Agent.String(), v.Sig.String(), v.Value, v.Timestamp
	return &VoteRequest{AssertionHash: &h, AgentID: &agent, Vote: &vote, Timestamp: &ts, Signature: &sig}
}

// NewRetractRequest is the wire form of a signed retraction.
func NewRetractRequest(r *assertion.Retraction) *RetractRequest {
	h, agent, sig, ts := r.Assertion.String(), r.Agent.String(), r.Sig.String(), r.Timestamp
	return &RetractRequest{AssertionHash: &h, AgentID: &agent, Timestamp: &ts, Signature: &sig}
}
