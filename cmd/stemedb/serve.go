package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/peterbourgon/ff/v3"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/sqlview/readonly"
	"github.com/stemedb/stemedb/wal"
)

// ServeCommand runs the server on an embedded store.
type ServeCommand struct {
	Main *Main
}

// Summary implements command.
func (c *ServeCommand) Summary() string { return "run the server on an embedded store" }

// ParseFlags turns args (and STEMEDB_* environment variables) into a node.Config.
func (c *ServeCommand) ParseFlags(args []string) (node.Config, error) {
	fs := flag.NewFlagSet("stemedb serve", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	lim := assertion.DefaultLimits()
	var cfg node.Config
	var logLevel, logFormat string
	var lensMemoryMiB int64
	fs.StringVar(&cfg.DataDir, "data-dir", node.DefaultDataDir, "directory of the log and the views")
	fs.StringVar(&cfg.Addr, "addr", node.DefaultAddr, "HOST:PORT to listen on")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "bearer token for admin endpoints (default: generated into the data dir)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", server.DefaultMaxBodyBytes, "largest request body accepted")
	fs.IntVar(&cfg.MaxBatch, "max-batch", server.DefaultMaxBatch, "most assertions in one batch")
	fs.Int64Var(&cfg.SegmentSize, "segment-size", wal.DefaultSegmentSize, "log segment size in bytes before rotation")
	fs.BoolVar(&cfg.WALNoIOUring, "wal-no-io-uring", false, "flush the log with fdatasync on a thread instead of through io_uring")
	fs.DurationVar(&lim.MaxFutureSkew, "max-future-skew", lim.MaxFutureSkew, "refuse acts timestamped further than this in the future")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", node.DefaultShutdownTimeout, "how long in-flight requests may take on shutdown")
	fs.IntVar(&cfg.MaxModuleBytes, "max-module-bytes", plugins.DefaultMaxModuleBytes, "largest lens module accepted for upload (and upload body limit)")
	fs.Int64Var(&lensMemoryMiB, "lens-memory-mib", node.DefaultLensMemoryBytes>>20, "memory cap of each lens instance, in MiB")
	fs.DurationVar(&cfg.LensCallTimeout, "lens-timeout", host.DefaultCallTimeout, "deadline of each call into an uploaded lens")
	fs.IntVar(&cfg.LensMaxBatchBytes, "lens-batch-bytes", host.DefaultMaxBatchBytes, "largest encoded input of one lens call (larger batches are split; bounds the output too)")
	fs.DurationVar(&cfg.SQLTimeout, "sql-timeout", readonly.DefaultTimeout, "time limit of each /v1/sql statement")
	fs.IntVar(&cfg.SQLMaxRows, "sql-max-rows", readonly.DefaultMaxRows, "rows in a /v1/sql answer unless the request sets max_rows")
	fs.IntVar(&cfg.SQLHardMaxRows, "sql-hard-max-rows", readonly.DefaultHardMaxRows, "most rows a /v1/sql request may ask for")
	fs.IntVar(&cfg.SQLConcurrency, "sql-concurrency", 0, "statements /v1/sql runs at once (default: half the cores, at least 1)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprint(c.Main.Stderr, `Usage: stemedb serve [flags]

Runs the StemeDB server on the embedded store in --data-dir. Every flag can also be set
by an environment variable: STEMEDB_ and the flag's name in capitals, dashes as
underscores (STEMEDB_DATA_DIR, STEMEDB_ADMIN_TOKEN, ...). Flags win over the environment.

Example:
  stemedb serve --data-dir ./data --addr 127.0.0.1:7070

Flags:
`)
		fs.PrintDefaults()
	}
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("STEMEDB")); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.Limits = lim
	cfg.LensMemoryBytes = lensMemoryMiB << 20
	logger, err := newLogger(c.Main, logLevel, logFormat)
	if err != nil {
		return cfg, err
	}
	cfg.Logger = logger
	return cfg, nil
}

// Run implements command: it serves until ctx is cancelled (SIGINT/SIGTERM), then stops
// accepting, finishes in-flight requests and makes the log durable.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	cfg, err := c.ParseFlags(args)
	if err != nil {
		return err
	}
	n, err := node.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// Without io_uring the log's committer sits in fdatasync holding a processor
		// until the scheduler takes it back, which on a 2-core machine idled a fifth of
		// the CPU that signature verification needs. One processor more than cores
		// measured 0.64x -> 0.76-0.78x of a verify-only handler (see wal's package doc).
		// GOMAXPROCS in the environment wins.
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n.WAL().HeldProcs())
	}
	ln, err := n.Listen()
	if err != nil {
		return errors.Join(err, n.Close())
	}
	serveErr := n.Serve(ctx, ln)
	closeErr := n.Close()
	if serveErr == nil && closeErr == nil {
		cfg.Logger.Info("stopped cleanly")
	}
	return errors.Join(serveErr, closeErr)
}

func newLogger(m *Main, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q", format)
}
