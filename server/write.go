package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
)

func (s *Server) handleAssert(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.decodeAssertion(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.verifyAssertions(r.Context(), []assertion.Assertion{a}); err != nil {
		s.writeError(w, r, err)
		return
	}
	pos, err := s.appendRecord(r.Context(), assertion.AppendAssertRecord(nil, []assertion.Assertion{a}))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := a.Claim.Hash()
	s.writeJSON(w, http.StatusCreated, api.AssertResult{Hash: h.String(), Status: api.StatusCreated, Offset: pos.End})
}

func (s *Server) handleAssertBatch(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req api.BatchRequest
	if err := api.Decode(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Assertions == nil:
		s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "assertions is required"))
		return
	case len(req.Assertions) == 0 || len(req.Assertions) > s.cfg.MaxBatch:
		s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "a batch holds 1 to %d assertions, got %d", s.cfg.MaxBatch, len(req.Assertions)))
		return
	}
	as, err := s.decodeBatch(r.Context(), req.Assertions)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pos, err := s.appendRecord(r.Context(), assertion.AppendAssertRecord(nil, as))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := api.BatchResult{Results: make([]api.BatchItemResult, len(as)), Offset: pos.End}
	for i := range as {
		h := as[i].Claim.Hash()
		res.Results[i] = api.BatchItemResult{Hash: h.String(), Status: api.StatusCreated}
	}
	s.writeJSON(w, http.StatusCreated, res)
}

// decodeBatch decodes, validates and verifies every item, and reports every bad one by
// index, in index order: the batch is all or nothing. Items that decode are verified
// even when others do not, so that one answer names every problem.
func (s *Server) decodeBatch(ctx context.Context, items []jsontext.Value) ([]assertion.Assertion, error) {
	as := make([]assertion.Assertion, len(items))
	errs := make([]error, len(items))
	var decoded []int
	for i, raw := range items {
		if as[i], errs[i] = s.decodeAssertion(raw); errs[i] == nil {
			decoded = append(decoded, i)
		}
	}
	if len(decoded) > 0 {
		toVerify := make([]assertion.Assertion, len(decoded))
		for k, i := range decoded {
			toVerify[k] = as[i]
		}
		sigErrs, err := s.verifyEach(ctx, toVerify)
		if err != nil {
			return nil, err
		}
		for k, i := range decoded {
			errs[i] = sigErrs[k]
		}
	}
	var bad []api.ItemError
	for i, err := range errs {
		if err != nil {
			bad = append(bad, itemError(i, err))
		}
	}
	if len(bad) > 0 {
		return nil, &api.Error{Code: bad[0].Code, Message: fmt.Sprintf("batch refused: item %d: %s", bad[0].Index, bad[0].Message), Items: bad}
	}
	return as, nil
}

func itemError(i int, err error) api.ItemError {
	e := api.FromDomain(err)
	return api.ItemError{Index: i, Code: e.Code, Message: e.Message}
}

func (s *Server) decodeAssertion(body []byte) (assertion.Assertion, error) {
	var req api.AssertRequest
	if err := api.Decode(body, &req); err != nil {
		return assertion.Assertion{}, err
	}
	return req.ToAssertion(s.cfg.Limits, s.cfg.Now())
}

func (s *Server) handleVote(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req api.VoteRequest
	if err := api.Decode(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := req.ToVote(s.cfg.Limits, s.cfg.Now())
	if err == nil {
		err = v.Verify()
	}
	if err != nil {
		s.writeError(w, r, api.FromDomain(err))
		return
	}
	s.writeRecorded(w, r, assertion.AppendVoteRecord(nil, v))
}

func (s *Server) handleRetract(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req api.RetractRequest
	if err := api.Decode(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	rt, err := req.ToRetraction(s.cfg.Limits, s.cfg.Now())
	if err == nil {
		err = rt.Verify()
	}
	if err != nil {
		s.writeError(w, r, api.FromDomain(err))
		return
	}
	s.writeRecorded(w, r, assertion.AppendRetractRecord(nil, rt))
}

func (s *Server) writeRecorded(w http.ResponseWriter, r *http.Request, payload []byte) {
	pos, err := s.appendRecord(r.Context(), payload)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, api.RecordedResult{Status: api.StatusRecorded, Offset: pos.End})
}
