package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/gorilla/mux"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/wal"
)

// Defaults for Config's zero fields.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxBatch     = 1000
)

// Log is what the write path needs from the write-ahead log.
type Log interface {
	Append(ctx context.Context, payload []byte) (wal.Position, error)
}

// Config configures a Server. Zero fields take their defaults.
type Config struct {
	Log          Log
	Limits       assertion.Limits // zero value: assertion.DefaultLimits()
	MaxBodyBytes int64
	MaxBatch     int
	// The read path; when Views is nil the server only takes writes.
	Views       Views
	Freshness   Freshness
	Lenses      LensCatalog
	DefaultLens string // default "VoteAwareConsensus"
	// SQL runs read-only statements for /v1/sql; nil leaves the route out.
	SQL SQLRunner
	// Status reports GET /v1/status; nil leaves the route out.
	Status func(ctx context.Context) (api.Status, error)
	// Registry serves the lens endpoints (/v1/lenses...); nil leaves them out. When set,
	// it is also Lenses (if that is nil), and queries through a lens without complete
	// rows in `resolved` are answered on the fly, which needs Views to implement
	// OnTheFlyViews (see lenses.go).
	Registry LensRegistry
	// LensRows tells which lenses' rows are complete; nil means only the built-ins'.
	LensRows LensRows
	// AdminToken guards the admin endpoints (API.md §7); empty refuses them all.
	AdminToken string
	// MaxModuleBytes is the body limit of a lens upload; default DefaultMaxModuleBytes.
	MaxModuleBytes int64
	// Verifiers bounds how many goroutines verify one batch's signatures; default GOMAXPROCS.
	Verifiers int
	Logger    *slog.Logger
	Now       func() time.Time
}

// Server serves the HTTP API. Create it with New; serve its Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	router *mux.Router
}

// New validates cfg, fills its defaults and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		return nil, errors.New("server: config has no log")
	}
	if cfg.Limits == (assertion.Limits{}) {
		cfg.Limits = assertion.DefaultLimits()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Verifiers <= 0 {
		cfg.Verifiers = runtime.GOMAXPROCS(0)
	}
	if cfg.Registry != nil {
		var err error
		if cfg, err = withRegistry(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Views != nil && (cfg.Freshness == nil || cfg.Lenses == nil) {
		return nil, errors.New("server: a read path needs Freshness and Lenses too")
	}
	if cfg.DefaultLens == "" {
		cfg.DefaultLens = "VoteAwareConsensus"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.router = s.routes()
	return s, nil
}

// Handler is the server's root http.Handler.
func (s *Server) Handler() http.Handler { return s.router }

func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Use(s.recoverPanics)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, api.Errorf(api.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, api.Errorf(api.CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	r.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet, http.MethodHead)
	// Full paths, not a /v1 subrouter: gorilla/mux answers a subrouter's method mismatch
	// with 404 instead of 405.
	r.HandleFunc("/v1/assert", s.handleAssert).Methods(http.MethodPost)
	r.HandleFunc("/v1/assert/batch", s.handleAssertBatch).Methods(http.MethodPost)
	r.HandleFunc("/v1/vote", s.handleVote).Methods(http.MethodPost)
	r.HandleFunc("/v1/retract", s.handleRetract).Methods(http.MethodPost)
	if s.cfg.Views != nil {
		r.HandleFunc("/v1/query", s.handleQuery).Methods(http.MethodGet)
		r.HandleFunc("/v1/assertions/{hash}", s.handleGetAssertion).Methods(http.MethodGet)
	}
	if s.cfg.Status != nil {
		r.HandleFunc("/v1/status", s.handleStatus).Methods(http.MethodGet)
	}
	if s.cfg.SQL != nil {
		r.HandleFunc("/v1/sql", func(w http.ResponseWriter, r *http.Request) { s.handleSQL(w, r, s.cfg.SQL) }).
			Methods(http.MethodGet, http.MethodPost)
	}
	if s.cfg.Registry != nil {
		s.lensRoutes(r)
	}
	return r
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Status(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// recoverPanics turns a handler panic into a 500 without taking the process down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.writeError(w, r, errors.New("panic in handler"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// readBody reads the whole body under the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, api.Errorf(api.CodeTooLarge, "body is larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, api.Errorf(api.CodeInvalidRequest, "reading body: %v", err)
	}
	return body, nil
}

// writeError is the one error path: it maps err to a code and status, logs only faults,
// and never shows a fault's internals to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.classify(r, err)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	s.writeJSON(w, e.Status(), api.ErrorBody{Error: e})
}

func (s *Server) classify(r *http.Request, err error) *api.Error {
	if e, ok := api.AsError(err); ok {
		return e
	}
	switch {
	case errors.Is(err, wal.ErrTooLarge):
		return api.Errorf(api.CodeTooLarge, "the write is larger than the log's record limit")
	case errors.Is(err, wal.ErrOverloaded):
		return &api.Error{Code: api.CodeOverloaded, Message: "the log's queue is full; retry later", RetryAfter: 1}
	case errors.Is(err, wal.ErrFailed):
		s.log.Error("log unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		return &api.Error{Code: api.CodeUnavailable, Message: "the log cannot accept writes", RetryAfter: 5}
	case errors.Is(err, wal.ErrClosed):
		return &api.Error{Code: api.CodeUnavailable, Message: "the server is shutting down", RetryAfter: 5}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &api.Error{Code: api.CodeUnavailable, Message: "request cancelled before it completed", RetryAfter: 1}
	}
	s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return api.Errorf(api.CodeInternal, "internal error")
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.MarshalWrite(w, v); err != nil {
		s.log.Debug("writing answer", "err", err)
		return
	}
	_, _ = io.WriteString(w, "\n")
}
