// Package node assembles a running StemeDB server from its parts: it opens the data
// directory (log, views), starts the background work and serves HTTP until told to stop.
//
// The command line and the end-to-end tests both start servers through it, so the tests
// exercise exactly what `stemedb serve` runs.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/sqlview"
	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/wal"
)

// Defaults of Config.
const (
	DefaultDataDir         = "./data"
	DefaultAddr            = "127.0.0.1:7070"
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultQueueWait bounds how long a write waits for room in the log's queue before
	// it is refused with 429: long enough to ride out a burst, short enough to shed load.
	DefaultQueueWait = 2 * time.Second
)

// Config is what `stemedb serve` takes from flags and environment.
type Config struct {
	DataDir         string
	Addr            string
	AdminToken      string
	Limits          assertion.Limits
	MaxBodyBytes    int64
	MaxBatch        int
	SegmentSize     int64
	WALNoIOUring    bool // flush the log with fdatasync on a thread (wal.Options.NoIOUring)
	ShutdownTimeout time.Duration
	DefaultLens     string
	MaxModuleBytes  int
	Logger          *slog.Logger
	// The lens sandbox (sandbox.go): memory per instance (default
	// DefaultLensMemoryBytes), deadline per call and input per call (host defaults), the
	// compiled-code cache (default <data-dir>/cache), and wazero's interpreter instead of
	// its compiler (no compile cost, slow calls: for tests).
	LensMemoryBytes   int64
	LensCallTimeout   time.Duration
	LensMaxBatchBytes int
	LensCacheDir      string
	LensInterpreter   bool
	// Read-only SQL (/v1/sql): each statement's time limit, the default and hard row
	// caps, and how many statements run at once; zero fields take package readonly's
	// defaults.
	SQLTimeout     time.Duration
	SQLMaxRows     int
	SQLHardMaxRows int
	SQLConcurrency int
}

// Node is an open data directory with its server.
type Node struct {
	cfg     Config
	log     *slog.Logger
	started time.Time

	wal     *wal.Log
	views   *sqlview.DB
	sql     *readonly.DB
	runtime *host.Runtime
	lenses  *plugins.Registry
	sync    *lensSync
	ingest  *ingest.Ingester
	mat     *materialize.Materializer
	server  *server.Server

	// Background work (ingest, materializer) runs until Close cancels it.
	cancel context.CancelFunc
	done   chan struct{}
	bgErr  error
}

// Open opens (or creates) the data directory and everything in it.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, started: time.Now()}
	if err := n.open(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func (n *Node) open(ctx context.Context) error {
	cfg := n.cfg
	start := time.Now()
	var err error
	n.wal, err = wal.Open(filepath.Join(cfg.DataDir, "wal"), wal.Options{
		SegmentSize: cfg.SegmentSize, QueueWait: DefaultQueueWait, NoIOUring: cfg.WALNoIOUring,
		Logger: cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	n.log.Info("log recovered", "dir", filepath.Join(cfg.DataDir, "wal"), "end", n.wal.End(),
		"sync", n.wal.SyncMethod(), "took", time.Since(start))

	n.views, err = sqlview.Open(ctx, filepath.Join(cfg.DataDir, "stemedb.sqlite"), sqlview.Options{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("open views: %w", err)
	}
	hostCfg, err := lensHostConfig(cfg)
	if err != nil {
		return err
	}
	n.runtime, err = host.NewRuntime(ctx, hostCfg)
	if err != nil {
		return fmt.Errorf("start lens runtime: %w", err)
	}
	n.lenses, err = plugins.Open(ctx, filepath.Join(cfg.DataDir, "lenses"), n.runtime, plugins.Options{MaxModuleBytes: cfg.MaxModuleBytes})
	if err != nil {
		return fmt.Errorf("open lens registry: %w", err)
	}
	n.mat, err = materialize.New(ctx, n.views, materialize.Options{
		Logger: cfg.Logger, OnLensOutcome: reportOutcome(n.lenses, n.log),
	})
	if err != nil {
		return fmt.Errorf("start materializer: %w", err)
	}
	n.sync = newLensSync(n.lenses, n.mat, n.log)
	// Interrupted backfills resume on their own (the materializer keeps their cursors).
	if err := n.sync.start(ctx, n.views); err != nil {
		return err
	}
	adminToken, err := n.adminToken()
	if err != nil {
		return err
	}
	n.ingest = ingest.New(n.views, ingest.WAL(n.wal), ingest.Options{
		Logger:    cfg.Logger,
		OnApplied: func(uint64) { n.mat.Notify() },
	})

	n.sql, err = readonly.Open(ctx, n.views.Path(), readonly.Options{
		Timeout: cfg.SQLTimeout, MaxRows: cfg.SQLMaxRows, HardMaxRows: cfg.SQLHardMaxRows,
		Concurrency: cfg.SQLConcurrency, Lenses: host.BuiltinNames(), Logger: cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("open read-only SQL: %w", err)
	}
	n.server, err = server.New(server.Config{
		Log:            n.wal,
		Limits:         cfg.Limits,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		MaxBatch:       cfg.MaxBatch,
		Views:          n.views,
		Freshness:      n.mat,
		Lenses:         n.lenses,
		DefaultLens:    cfg.DefaultLens,
		Status:         n.status,
		Logger:         cfg.Logger,
		Registry:       recordedUploads{Registry: n.lenses, views: n.views, log: n.log},
		LensRows:       n.sync,
		AdminToken:     adminToken,
		MaxModuleBytes: int64(cfg.MaxModuleBytes),
		SQL:            n.sql,
	})
	if err != nil {
		return err
	}
	n.startBackground()
	return nil
}

// startBackground runs ingest and the materializer until Close.
func (n *Node) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.done = make(chan struct{})
	errc := make(chan error, 3)
	go func() { errc <- n.ingest.Run(ctx) }()
	go func() { errc <- n.mat.Run(ctx) }()
	go func() { errc <- n.sync.run(ctx) }()
	n.mat.Notify() // catch up with whatever is dirty from before a restart
	go func() {
		defer close(n.done)
		var errs []error
		for range 3 {
			if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
				n.log.Error("background work stopped", "err", err)
				errs = append(errs, err)
			}
		}
		n.bgErr = errors.Join(errs...)
	}()
}

func (n *Node) status(ctx context.Context) (api.Status, error) {
	st, err := n.views.State(ctx)
	if err != nil {
		return api.Status{}, err
	}
	groups, err := sqlview.CountGroups(ctx, n.views.ReadDB(), 0)
	if err != nil {
		return api.Status{}, err
	}
	ms := n.mat.Stats()
	out := api.Status{
		LogOffset:          n.wal.End(),
		IngestedOffset:     st.IngestedOffset,
		MaterializedOffset: st.MaterializedOffset,
		Assertions:         st.Assertions,
		Groups:             groups,
		DirtyGroups:        st.DirtyGroups,
		UptimeSecond:       time.Since(n.started).Seconds(),
	}
	if err := n.ingest.Err(); err != nil {
		out.IngestError = err.Error()
	}
	for _, info := range n.lenses.List() {
		ls := api.LensStatus{
			Name: info.Name, Version: info.Version, Hash: info.Hash, BuiltIn: info.BuiltIn,
			Materialized: info.Materialized, State: info.State, Failures: int64(ms.Lenses[info.Name].Failures),
		}
		if bf, ok := ms.Backfills[info.Name]; ok {
			ls.Backfill = &api.BackfillStatus{Done: bf.Done, Total: bf.Total, Running: bf.Running, Finished: bf.Finished, Error: bf.LastError}
		}
		out.Lenses = append(out.Lenses, ls)
	}
	return out, nil
}

// WAL, Views, Ingester and Materializer expose the parts to tests and tools.
func (n *Node) WAL() *wal.Log                           { return n.wal }
func (n *Node) Views() *sqlview.DB                      { return n.views }
func (n *Node) Ingester() *ingest.Ingester              { return n.ingest }
func (n *Node) Materializer() *materialize.Materializer { return n.mat }

// Handler is the node's HTTP handler (for tests that bring their own listener).
func (n *Node) Handler() http.Handler { return n.server.Handler() }

// Listen opens the configured address.
func (n *Node) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", n.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", n.cfg.Addr, err)
	}
	return ln, nil
}

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully: it stops accepting,
// lets in-flight requests finish (up to the shutdown timeout) and returns. Close makes the
// log durable afterwards.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           n.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	n.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	n.log.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close stops background work and closes everything, making the log durable. It is safe
// on a partly opened node.
func (n *Node) Close() error {
	var errs []error
	if n.cancel != nil {
		n.cancel()
		<-n.done
		errs = append(errs, n.bgErr)
	}
	ctx := context.Background()
	if n.lenses != nil {
		if err := n.lenses.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close lens registry: %w", err))
		}
	}
	if n.runtime != nil {
		if err := n.runtime.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close lens runtime: %w", err))
		}
	}
	// SQL readers would hold up the views' final checkpoint: close them first.
	if n.sql != nil {
		if err := n.sql.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close read-only SQL: %w", err))
		}
	}
	if n.views != nil {
		if err := n.views.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close views: %w", err))
		}
	}
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close log: %w", err))
		}
	}
	return errors.Join(errs...)
}
