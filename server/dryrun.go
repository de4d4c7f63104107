package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/plugins"
)

// Limits of the dry run.
const (
	DefaultTestGroups = 100
	MaxTestGroups     = 1000
)

// dryGroup is one group of a dry run with what its answer shows of each candidate.
type dryGroup struct {
	group host.Group
	picks []api.LensTestPick // per candidate; Index set
}

// handleTestLens is POST /v1/lenses/test, the dry run of a module before it goes live:
// it runs one lens of a module that is not installed over groups and shows its winners
// next to a comparison lens's (the server's default lens unless compare is given).
// Nothing is stored.
//
// Query parameters: lens (which lens of the module; may be left out for a module with
// one), compare, and either subject and/or predicate (stored groups, in the query
// order, the first limit of them: 1..1000, default 100) or none of them when the groups
// come in the request. The body is the module, raw, or multipart/form-data with a
// "module" part and an optional "groups" part holding api.LensTestGroups JSON.
//
// A module that fails validation is 400 invalid_module; a lens call that fails is 500
// lens_failed naming the lens. The module's lens runs under the same limits as an
// upload's.
func (s *Server) handleTestLens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := onlyParams(q, "lens", "compare", "subject", "predicate", "limit"); err != nil {
		s.writeError(w, r, err)
		return
	}
	subject, predicate := q.Get("subject"), q.Get("predicate")
	limit := DefaultTestGroups
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > MaxTestGroups {
			s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "limit must be an integer in 1..%d", MaxTestGroups))
			return
		}
		limit = n
	}
	compare := s.cfg.DefaultLens
	if q.Has("compare") {
		compare = q.Get("compare")
	}
	cmpRes, cmpInfo, err := s.cfg.Registry.Resolver(compare)
	if err != nil {
		if errors.Is(err, plugins.ErrFailed) {
			err = api.Errorf(api.CodeLensFailed, "comparison lens %s is out of service: %s", describe(cmpInfo), failedReason(cmpInfo, err))
		}
		s.writeError(w, r, registryError(err))
		return
	}
	wasm, groupsJSON, err := s.readModule(w, r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	res := api.LensTestResult{ModuleLens: q.Get("lens"), Compare: cmpInfo.Name, Hash: plugins.ModuleHash(wasm)}
	var groups []dryGroup
	switch {
	case groupsJSON != nil && (subject != "" || predicate != ""):
		err = api.Errorf(api.CodeInvalidRequest, "give either groups in the body or subject/predicate, not both")
	case groupsJSON != nil:
		res.Source = "request"
		groups, err = s.requestGroups(groupsJSON)
	case subject != "" || predicate != "":
		res.Source = "stored"
		groups, res.HasMore, err = s.storedGroups(r, subject, predicate, limit)
	default:
		err = api.Errorf(api.CodeInvalidRequest, `say which groups to run: subject and/or predicate, or a "groups" part in a multipart body`)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	// Groups without candidates have no winner; a lens need not be asked.
	var in []host.Group
	var at []int
	for i := range groups {
		if len(groups[i].group.Candidates) > 0 {
			in = append(in, groups[i].group)
			at = append(at, i)
		}
	}
	mine := make([][]int, len(groups))
	theirs := make([][]int, len(groups))
	if len(in) > 0 {
		got, err := s.cfg.Registry.TestModule(r.Context(), wasm, q.Get("lens"), in)
		if err != nil {
			if errors.Is(err, host.ErrInvalidModule) || callerGone(r.Context(), err) {
				s.writeError(w, r, registryError(err))
				return
			}
			var le *host.LensError
			if errors.As(err, &le) {
				err = lensFailed(le.Lens, 0, err)
			}
			s.writeError(w, r, err)
			return
		}
		cur, err := cmpRes.Resolve(r.Context(), in)
		if err != nil {
			if !callerGone(r.Context(), err) {
				err = lensFailed(cmpInfo.Name, cmpInfo.Version, err)
			}
			s.writeError(w, r, err)
			return
		}
		for i, gi := range at {
			mine[gi], theirs[gi] = got[i], cur[i]
		}
	}

	res.Groups = len(groups)
	res.Results = make([]api.LensTestGroupResult, len(groups))
	for i := range groups {
		g := &groups[i]
		gr := api.LensTestGroupResult{
			Subject: g.group.Subject, Predicate: g.group.Predicate, Candidates: len(g.group.Candidates),
			Winners: make([]api.LensTestPick, 0, len(mine[i])), Current: make([]api.LensTestPick, 0, len(theirs[i])),
			Same: slices.Equal(mine[i], theirs[i]),
		}
		for _, ci := range mine[i] {
			gr.Winners = append(gr.Winners, g.picks[ci])
		}
		for _, ci := range theirs[i] {
			gr.Current = append(gr.Current, g.picks[ci])
		}
		if !gr.Same {
			res.Differ++
		}
		res.Results[i] = gr
	}
	s.writeJSON(w, http.StatusOK, res)
}

// storedGroups reads the first limit groups matching subject/predicate.
func (s *Server) storedGroups(r *http.Request, subject, predicate string, limit int) ([]dryGroup, bool, error) {
	lv, ok := s.cfg.Views.(*lensViews)
	if !ok {
		return nil, false, api.Errorf(api.CodeInvalidRequest, "this server has no stored groups to test on; give groups in the request")
	}
	if len(subject) > maxFilterBytes || len(predicate) > maxFilterBytes {
		return nil, false, api.Errorf(api.CodeInvalidRequest, "subject and predicate are at most %d bytes", maxFilterBytes)
	}
	loaded, more, err := lv.fly.LoadMatchingGroups(r.Context(), subject, predicate, limit)
	if err != nil {
		return nil, false, err
	}
	var ids []int64
	for _, g := range loaded {
		for _, c := range g.Candidates {
			ids = append(ids, c.ID)
		}
	}
	as, err := lv.fly.LoadAssertions(r.Context(), ids)
	if err != nil {
		return nil, false, err
	}
	hg := materialize.HostGroups(loaded)
	out := make([]dryGroup, len(loaded))
	k := 0
	for i := range loaded {
		out[i].group = hg[i]
		for ci := range loaded[i].Candidates {
			a := &as[k]
			k++
			out[i].picks = append(out[i].picks, api.LensTestPick{
				Index: ci, Hash: a.Hash.String(), Confidence: a.Confidence,
				Object: api.ObjectOut{Type: a.Object.TypeName(), Value: jsontext.Value(a.Object.AppendJSONValue(nil))},
			})
		}
	}
	return out, more, nil
}

// requestGroups decodes and checks the groups given in a dry run's request.
func (s *Server) requestGroups(body []byte) ([]dryGroup, error) {
	var req api.LensTestGroups
	if err := api.Decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.Groups) == 0 || len(req.Groups) > MaxTestGroups {
		return nil, api.Errorf(api.CodeInvalidRequest, "groups: give 1 to %d groups, got %d", MaxTestGroups, len(req.Groups))
	}
	out := make([]dryGroup, len(req.Groups))
	for i, g := range req.Groups {
		dg, err := s.requestGroup(g)
		if err != nil {
			return nil, prefixed(fmt.Sprintf("groups[%d]", i), err)
		}
		out[i] = dg
	}
	return out, nil
}

func (s *Server) requestGroup(g api.LensTestGroup) (dryGroup, error) {
	lim := s.cfg.Limits
	switch {
	case g.Subject == nil || *g.Subject == "":
		return dryGroup{}, api.Errorf(api.CodeInvalidRequest, "subject is required")
	case g.Predicate == nil || *g.Predicate == "":
		return dryGroup{}, api.Errorf(api.CodeInvalidRequest, "predicate is required")
	case len(*g.Subject) > lim.MaxSubject || len(*g.Predicate) > lim.MaxPredicate:
		return dryGroup{}, api.Errorf(api.CodeInvalidRequest, "subject and predicate are at most %d and %d bytes", lim.MaxSubject, lim.MaxPredicate)
	}
	dg := dryGroup{group: host.Group{Subject: *g.Subject, Predicate: *g.Predicate}}
	for ci, c := range g.Candidates {
		hc, pick, err := s.requestCandidate(*g.Subject, *g.Predicate, c)
		if err != nil {
			return dryGroup{}, prefixed(fmt.Sprintf("candidates[%d]", ci), err)
		}
		pick.Index = ci
		dg.group.Candidates = append(dg.group.Candidates, hc)
		dg.picks = append(dg.picks, pick)
	}
	return dg, nil
}

func (s *Server) requestCandidate(subject, predicate string, c api.LensTestCandidate) (host.Candidate, api.LensTestPick, error) {
	var hc host.Candidate
	switch {
	case c.Object == nil || c.Object.Type == nil || c.Object.Value == nil:
		return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "object with type and value is required")
	case c.Confidence == nil:
		return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "confidence is required")
	case math.IsNaN(*c.Confidence) || *c.Confidence < 0 || *c.Confidence > 1:
		return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "confidence must be in [0, 1]")
	}
	obj, err := assertion.ParseObject(*c.Object.Type, c.Object.Value, s.cfg.Limits)
	if err != nil {
		return hc, api.LensTestPick{}, api.FromDomain(fmt.Errorf("object: %w", err))
	}
	hc.Object = obj.AppendValueBytes(nil)
	hc.Confidence = *c.Confidence
	if c.Hash != nil {
		if hc.Hash, err = assertion.ParseHash(*c.Hash); err != nil {
			return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "hash: %v", err)
		}
	} else {
		hc.Hash = assertion.Claim{Subject: subject, Predicate: predicate, Object: obj, Confidence: *c.Confidence}.Hash()
	}
	if c.Votes != nil {
		if c.Votes.Up < 0 || c.Votes.Down < 0 {
			return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "votes must not be negative")
		}
		hc.Up, hc.Down = uint32(c.Votes.Up), uint32(c.Votes.Down)
	}
	for si, sg := range c.Signers {
		if sg.AgentID == nil || sg.Timestamp == nil {
			return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "signers[%d]: agent_id and timestamp are required", si)
		}
		agent, err := assertion.ParseAgentID(*sg.AgentID)
		if err != nil {
			return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "signers[%d].agent_id: %v", si, err)
		}
		trust := 1.0
		if sg.Trust != nil {
			trust = *sg.Trust
			if math.IsNaN(trust) || math.IsInf(trust, 0) || trust < 0 {
				return hc, api.LensTestPick{}, api.Errorf(api.CodeInvalidRequest, "signers[%d].trust must be a finite number >= 0", si)
			}
		}
		hc.Signers = append(hc.Signers, host.Signer{Agent: agent, Timestamp: *sg.Timestamp, Trust: trust})
	}
	pick := api.LensTestPick{
		Hash: hex.EncodeToString(hc.Hash[:]), Confidence: hc.Confidence,
		Object: api.ObjectOut{Type: obj.TypeName(), Value: jsontext.Value(obj.AppendJSONValue(nil))},
	}
	return hc, pick, nil
}

// prefixed puts where in front of a coded error's message.
func prefixed(where string, err error) error {
	if e, ok := api.AsError(err); ok {
		return &api.Error{Code: e.Code, Message: where + ": " + e.Message}
	}
	return fmt.Errorf("%s: %w", where, err)
}
