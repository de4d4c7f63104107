package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/gorilla/mux"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// Query limits of API.md §4.
const (
	DefaultQueryLimit = 100
	MaxQueryLimit     = 1000
	DefaultWait       = 1000 * time.Millisecond
	MaxWait           = 10000 * time.Millisecond
	maxFilterBytes    = 1024
)

// Views is what the read path needs from the SQLite projection.
type Views interface {
	QueryWinners(ctx context.Context, p sqlview.QueryParams) (sqlview.Page, error)
	GetAssertion(ctx context.Context, h assertion.Hash) (*sqlview.Assertion, error)
}

// Freshness lets a reader wait until the views include a log offset.
type Freshness interface {
	WaitMaterialized(ctx context.Context, offset uint64) error
}

// LensCatalog names the lenses a query may use.
type LensCatalog interface {
	// Canonical returns the canonical name of the lens called name (matched
	// case-insensitively), or false when there is none.
	Canonical(name string) (string, bool)
}

// queryParams is GET /v1/query's parameters, parsed once.
type queryParams struct {
	subject, predicate string
	lens               string
	limit              int
	cursor             *sqlview.Cursor
	minOffset          *uint64
	wait               time.Duration
}

var queryParamNames = map[string]bool{
	"subject": true, "predicate": true, "lens": true, "limit": true, "cursor": true,
	"min_offset": true, "wait_ms": true,
}

func (s *Server) parseQuery(q url.Values) (queryParams, error) {
	p := queryParams{limit: DefaultQueryLimit, wait: DefaultWait, lens: s.cfg.DefaultLens}
	for name, vals := range q {
		if !queryParamNames[name] {
			return p, api.Errorf(api.CodeInvalidRequest, "unknown query parameter %q", name)
		}
		if len(vals) != 1 {
			return p, api.Errorf(api.CodeInvalidRequest, "query parameter %q given %d times", name, len(vals))
		}
	}
	p.subject, p.predicate = q.Get("subject"), q.Get("predicate")
	if p.subject == "" && p.predicate == "" {
		return p, api.Errorf(api.CodeInvalidRequest, "subject or predicate is required")
	}
	if len(p.subject) > maxFilterBytes || len(p.predicate) > maxFilterBytes {
		return p, api.Errorf(api.CodeInvalidRequest, "subject and predicate are at most %d bytes", maxFilterBytes)
	}
	if q.Has("lens") {
		p.lens = q.Get("lens")
	}
	canonical, ok := s.cfg.Lenses.Canonical(p.lens)
	if !ok {
		return p, api.Errorf(api.CodeNotFound, "no lens named %q", p.lens)
	}
	p.lens = canonical
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > MaxQueryLimit {
			return p, api.Errorf(api.CodeInvalidRequest, "limit must be an integer in 1..%d", MaxQueryLimit)
		}
		p.limit = n
	}
	if c := q.Get("cursor"); c != "" {
		cur, err := sqlview.DecodeCursor(c)
		if err != nil {
			return p, api.Errorf(api.CodeInvalidRequest, "cursor is not one this server issued")
		}
		p.cursor = &cur
	}
	if q.Has("min_offset") {
		off, err := strconv.ParseUint(q.Get("min_offset"), 10, 64)
		if err != nil {
			return p, api.Errorf(api.CodeInvalidRequest, "min_offset must be a log offset (an unsigned integer)")
		}
		p.minOffset = &off
	}
	if q.Has("wait_ms") {
		ms, err := strconv.Atoi(q.Get("wait_ms"))
		// Compare in milliseconds: a huge value would overflow a Duration.
		if err != nil || ms < 0 || int64(ms) > MaxWait.Milliseconds() {
			return p, api.Errorf(api.CodeInvalidRequest, "wait_ms must be an integer in 0..%d", MaxWait.Milliseconds())
		}
		p.wait = time.Duration(ms) * time.Millisecond
	}
	return p, nil
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stale := false
	if p.minOffset != nil {
		stale, err = s.waitFresh(r.Context(), *p.minOffset, p.wait)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, err := s.cfg.Views.QueryWinners(r.Context(), sqlview.QueryParams{
		Subject: p.subject, Predicate: p.predicate, Lens: p.lens, Limit: p.limit, After: p.cursor,
	})
	if errors.Is(err, sqlview.ErrBadCursor) {
		err = api.Errorf(api.CodeInvalidRequest, "cursor does not belong to this query")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.minOffset != nil && page.MaterializedOffset >= *p.minOffset {
		stale = false
	}
	res := api.QueryResult{
		Lens:               p.lens,
		Assertions:         make([]api.Assertion, len(page.Assertions)),
		TotalCount:         page.TotalCount,
		HasMore:            page.HasMore,
		MaterializedOffset: page.MaterializedOffset,
		Stale:              stale,
	}
	for i := range page.Assertions {
		res.Assertions[i] = toAPIAssertion(&page.Assertions[i])
	}
	if page.Next != nil {
		next := page.Next.Encode()
		res.NextCursor = &next
	}
	s.writeJSON(w, http.StatusOK, res)
}

// waitFresh waits up to wait for the views to include offset; it reports stale when they
// did not in time. Only the request's own cancellation is an error.
func (s *Server) waitFresh(ctx context.Context, offset uint64, wait time.Duration) (stale bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err = s.cfg.Freshness.WaitMaterialized(wctx, offset)
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() != nil:
		return true, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return true, nil
	}
	return true, err
}

func (s *Server) handleGetAssertion(w http.ResponseWriter, r *http.Request) {
	h, err := assertion.ParseHash(mux.Vars(r)["hash"])
	if err != nil {
		s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "hash: %v", err))
		return
	}
	a, err := s.cfg.Views.GetAssertion(r.Context(), h)
	if errors.Is(err, sqlview.ErrNotFound) {
		err = api.Errorf(api.CodeNotFound, "no assertion %s", h)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, toAPIAssertion(a))
}

func toAPIAssertion(a *sqlview.Assertion) api.Assertion {
	out := api.Assertion{
		Hash:       a.Hash.String(),
		Subject:    a.Subject,
		Predicate:  a.Predicate,
		Object:     api.ObjectOut{Type: a.Object.TypeName(), Value: jsontext.Value(a.Object.AppendJSONValue(nil))},
		Confidence: a.Confidence,
		Signatures: make([]api.SignatureOut, len(a.Signatures)),
		Votes:      api.Votes{Up: int(a.Up), Down: int(a.Down)},
		Retracted:  a.Retracted,
		Offset:     a.Offset,
	}
	if !a.Source.IsZero() {
		src := a.Source.String()
		out.SourceHash = &src
	}
	for i, sig := range a.Signatures {
		out.Signatures[i] = api.SignatureOut{AgentID: sig.Agent.String(), Signature: sig.Sig.String(), Timestamp: sig.Timestamp}
	}
	return out
}
