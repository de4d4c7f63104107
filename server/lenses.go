package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/sqlview"
)

// DefaultMaxModuleBytes is the default body limit of a lens upload: the registry's cap on
// a module, not the 1 MiB limit of JSON bodies.
const DefaultMaxModuleBytes = plugins.DefaultMaxModuleBytes

// multipartSlack is what a multipart body may carry beyond its parts' own limits:
// boundaries and part headers.
const multipartSlack = 64 << 10

// LensRegistry is what the lens endpoints and the query path need from the lens registry
// (*plugins.Registry).
type LensRegistry interface {
	LensCatalog
	List() []plugins.Info
	Get(name string) (plugins.Info, []plugins.Version, error)
	Resolver(name string) (host.Resolver, plugins.Info, error)
	Upload(ctx context.Context, name string, wasm []byte, materialized bool) (plugins.Info, error)
	Delete(ctx context.Context, name string) error
	TestModule(ctx context.Context, wasm []byte, name string, groups []host.Group) ([][]int, error)
	ReportFailure(name string, err error) error
	ReportSuccess(name string)
}

// LensRows tells how far `resolved` is for each materialized lens (the node implements it
// from the materializer).
type LensRows interface {
	// Complete reports whether `resolved` holds the winners of the live version of the
	// lens called name (canonical) for every group, so that a query may read them. Until
	// then (a backfill running, a new version not yet picked up) queries are answered on
	// the fly.
	Complete(name string) bool
	// Progress returns name's backfill since the server started (nil if none ran) and
	// the number of groups the materializer's calls of it failed on.
	Progress(name string) (*api.BackfillStatus, int64)
}

// OnTheFlyViews is what answering through a lens without complete rows needs from the
// views (*sqlview.DB), beyond Views.
type OnTheFlyViews interface {
	QueryOnTheFly(ctx context.Context, p sqlview.QueryParams, resolve sqlview.ResolveFunc) (sqlview.Page, error)
	LoadMatchingGroups(ctx context.Context, subject, predicate string, limit int) ([]sqlview.Group, bool, error)
	LoadAssertions(ctx context.Context, ids []int64) ([]sqlview.Assertion, error)
}

// withRegistry fills in what Config.Registry implies: the registry is the query path's
// catalog, and queries go through lensViews.
func withRegistry(cfg Config) (Config, error) {
	if cfg.Lenses == nil {
		cfg.Lenses = cfg.Registry
	}
	if cfg.MaxModuleBytes <= 0 {
		cfg.MaxModuleBytes = DefaultMaxModuleBytes
	}
	if cfg.Views == nil {
		return cfg, nil
	}
	fly, ok := cfg.Views.(OnTheFlyViews)
	if !ok {
		return cfg, errors.New("server: a lens registry needs views that answer on the fly (OnTheFlyViews)")
	}
	cfg.Views = &lensViews{Views: cfg.Views, fly: fly, reg: cfg.Registry, rows: cfg.LensRows}
	return cfg, nil
}

// lensRoutes registers the lens endpoints (API.md §5). The dry run comes before
// /v1/lenses/{name} so that POST /v1/lenses/test is not taken for a lens called "test";
// GET and DELETE of a lens called "test" still work.
func (s *Server) lensRoutes(r *mux.Router) {
	r.HandleFunc("/v1/lenses", s.handleListLenses).Methods(http.MethodGet)
	r.HandleFunc("/v1/lenses", s.requireAdmin(s.handleUploadLens)).Methods(http.MethodPost)
	r.HandleFunc("/v1/lenses/test", s.requireAdmin(s.handleTestLens)).Methods(http.MethodPost)
	r.HandleFunc("/v1/lenses/{name}", s.handleGetLens).Methods(http.MethodGet)
	r.HandleFunc("/v1/lenses/{name}", s.requireAdmin(s.handleDeleteLens)).Methods(http.MethodDelete)
}

func (s *Server) handleListLenses(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		s.writeError(w, r, err)
		return
	}
	infos := s.cfg.Registry.List()
	out := api.LensList{Lenses: make([]api.Lens, len(infos))}
	for i, info := range infos {
		out.Lenses[i] = s.apiLens(info)
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetLens(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		s.writeError(w, r, err)
		return
	}
	info, versions, err := s.cfg.Registry.Get(mux.Vars(r)["name"])
	if err != nil {
		s.writeError(w, r, registryError(err))
		return
	}
	out := s.apiLens(info)
	out.Versions = make([]api.LensVersion, len(versions))
	for i, v := range versions {
		out.Versions[i] = api.LensVersion{
			Version: v.Version, Hash: v.Hash, ModuleLens: v.Lens, Size: v.Size,
			UploadedAt: timeOrNil(v.UploadedAt), Materialized: v.Materialized,
			Live: v.Version == info.Version, Failed: v.Failed, FailedAt: v.FailedAt,
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}

// handleUploadLens is POST /v1/lenses?name=<name>[&materialized=false]: the body is the
// module, raw or as the "module" part of a multipart/form-data body. The lens is live
// when the answer is sent; a materialized one is backfilled in the background.
func (s *Server) handleUploadLens(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := onlyParams(q, "name", "materialized"); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := q.Get("name")
	if name == "" {
		s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "the name query parameter is required: POST /v1/lenses?name=<name>"))
		return
	}
	materialized := true
	if q.Has("materialized") {
		b, err := strconv.ParseBool(q.Get("materialized"))
		if err != nil {
			s.writeError(w, r, api.Errorf(api.CodeInvalidRequest, "materialized must be true or false"))
			return
		}
		materialized = b
	}
	wasm, _, err := s.readModule(w, r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	info, err := s.cfg.Registry.Upload(r.Context(), name, wasm, materialized)
	if err != nil {
		s.writeError(w, r, registryError(err))
		return
	}
	s.log.Info("lens uploaded", "name", info.Name, "version", info.Version, "hash", info.Hash,
		"materialized", info.Materialized, "bytes", len(wasm), "took", time.Since(start))
	w.Header().Set("Location", "/v1/lenses/"+url.PathEscape(info.Name))
	s.writeJSON(w, http.StatusCreated, s.apiLens(info))
}

// handleDeleteLens takes an uploaded lens out of service; its rows leave `resolved` in
// the background, its history stays.
func (s *Server) handleDeleteLens(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := mux.Vars(r)["name"]
	if err := s.cfg.Registry.Delete(r.Context(), name); err != nil {
		s.writeError(w, r, registryError(err))
		return
	}
	s.log.Info("lens deleted", "name", name)
	w.WriteHeader(http.StatusNoContent)
}

// apiLens describes info with where its queries are answered from and its
// materialization progress.
func (s *Server) apiLens(info plugins.Info) api.Lens {
	out := api.Lens{
		Name: info.Name, Version: info.Version, Hash: info.Hash, BuiltIn: info.BuiltIn,
		Materialized: info.Materialized, ModuleLens: info.Lens, UploadedAt: timeOrNil(info.UploadedAt),
		State: info.State, Failures: info.Failures, LastError: info.LastError,
		Serving: api.ServingOnTheFly,
	}
	if s.servesFromRows(info) {
		out.Serving = api.ServingResolved
	}
	if s.cfg.LensRows != nil {
		out.Backfill, out.FailedGroups = s.cfg.LensRows.Progress(info.Name)
	}
	return out
}

// servesFromRows reports whether queries through info read `resolved`.
func (s *Server) servesFromRows(info plugins.Info) bool {
	return servesFromRows(info, s.cfg.LensRows)
}

func servesFromRows(info plugins.Info, rows LensRows) bool {
	if info.BuiltIn {
		return true // materialized from the start, never backfilled
	}
	return info.Materialized && info.State == plugins.StateLive && rows != nil && rows.Complete(info.Name)
}

// readModule reads an uploaded module: the raw body, or the "module" part of a
// multipart/form-data body (withGroups also accepts a "groups" part, returned raw). The
// module may be Config.MaxModuleBytes long, groups Config.MaxBodyBytes.
func (s *Server) readModule(w http.ResponseWriter, r *http.Request, withGroups bool) (wasm, groups []byte, err error) {
	limit := s.cfg.MaxModuleBytes
	tooLarge := func() error {
		return api.Errorf(api.CodeTooLarge, "the module is larger than %d bytes (the server's --max-module-bytes)", limit)
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		wasm, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, nil, tooLarge()
		case err != nil:
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "reading body: %v", err)
		}
		return wasm, nil, nil
	}
	total := limit + multipartSlack
	if withGroups {
		total += s.cfg.MaxBodyBytes
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, total), params["boundary"])
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, nil, api.Errorf(api.CodeTooLarge, "the body is larger than %d bytes", total)
			}
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "multipart body: %v", err)
		}
		field := part.FormName()
		if seen[field] {
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "multipart body: part %q given twice", field)
		}
		seen[field] = true
		switch {
		case field == "module":
			if wasm, err = readPart(part, limit); err != nil {
				if errors.Is(err, errPartTooLarge) {
					return nil, nil, tooLarge()
				}
				return nil, nil, err
			}
		case field == "groups" && withGroups:
			if groups, err = readPart(part, s.cfg.MaxBodyBytes); err != nil {
				if errors.Is(err, errPartTooLarge) {
					return nil, nil, api.Errorf(api.CodeTooLarge, "the groups part is larger than %d bytes", s.cfg.MaxBodyBytes)
				}
				return nil, nil, err
			}
		default:
			want := `"module"`
			if withGroups {
				want = `"module" and "groups"`
			}
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "multipart body: unknown part %q (the parts are %s)", field, want)
		}
	}
	if !seen["module"] {
		return nil, nil, api.Errorf(api.CodeInvalidRequest, `multipart body: the "module" part is required`)
	}
	return wasm, groups, nil
}

var errPartTooLarge = errors.New("part too large")

// readPart reads a multipart part of at most limit bytes.
func readPart(p *multipart.Part, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, api.Errorf(api.CodeTooLarge, "the body is larger than its limit")
	case err != nil:
		return nil, api.Errorf(api.CodeInvalidRequest, "multipart part %q: %v", p.FormName(), err)
	case int64(len(b)) > limit:
		return nil, errPartTooLarge
	}
	return b, nil
}

// registryError maps the registry's errors to coded ones; anything else is left for
// writeError to treat as a fault.
func registryError(err error) error {
	switch {
	case errors.Is(err, host.ErrInvalidModule):
		return api.Errorf(api.CodeInvalidModule, "%s", moduleReason(err))
	case errors.Is(err, plugins.ErrInvalidName):
		return api.Errorf(api.CodeInvalidRequest, "%v", err)
	case errors.Is(err, plugins.ErrBuiltin):
		return api.Errorf(api.CodeConflict, "%v", err)
	case errors.Is(err, plugins.ErrNotFound):
		return api.Errorf(api.CodeNotFound, "%v", err)
	case errors.Is(err, plugins.ErrClosed):
		return &api.Error{Code: api.CodeUnavailable, Message: "the server is shutting down", RetryAfter: 5}
	}
	return err
}

// moduleReason is the refusal's text from "invalid module" on: the registry's prefix
// (`upload lens "X": `) says nothing the client does not know.
func moduleReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, host.ErrInvalidModule.Error()); i >= 0 {
		return msg[i:]
	}
	return msg
}

// onlyParams refuses query parameters other than allowed, and any given twice.
func onlyParams(q url.Values, allowed ...string) error {
	for name, vals := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return api.Errorf(api.CodeInvalidRequest, "unknown query parameter %q", name)
		}
		if len(vals) != 1 {
			return api.Errorf(api.CodeInvalidRequest, "query parameter %q given %d times", name, len(vals))
		}
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// lensFailed is the answer to a failed lens call: 500 lens_failed naming the lens (its
// registry name and version, and the host's reason).
func lensFailed(name string, version int, err error) error {
	var le *host.LensError
	reason := err.Error()
	if errors.As(err, &le) {
		reason = le.Err.Error()
	}
	if version > 0 {
		return api.Errorf(api.CodeLensFailed, "lens %s (version %d) failed: %s", name, version, reason)
	}
	return api.Errorf(api.CodeLensFailed, "lens %s failed: %s", name, reason)
}

// callerGone reports whether err is the request's own cancellation rather than the
// lens's doing.
func callerGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// describe is a short form of a lens for messages.
func describe(info plugins.Info) string {
	if info.BuiltIn {
		return info.Name
	}
	return fmt.Sprintf("%s (version %d)", info.Name, info.Version)
}
