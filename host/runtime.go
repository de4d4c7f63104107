package host

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Runtime compiles and runs lens modules. It holds two wazero runtimes: one for untrusted
// modules, which closes a module when its call's context is done (the only way to stop a
// guest loop; without it a looping guest freezes the whole process at the next GC), and
// one for trusted modules (the built-ins), which skips that per-call tax. Both speak the
// same ABI through the same code. A Runtime is safe for concurrent use.
type Runtime struct {
	cfg       Config
	untrusted *engine
	trusted   *engine
	encoders  sync.Pool // *encoder: buffers reused across Resolve calls
}

// engine is one wazero runtime with its compilation cache and WASI.
type engine struct {
	rt      wazero.Runtime
	cache   wazero.CompilationCache
	trusted bool
}

// NewRuntime checks cfg and starts a Runtime. Close it to free compiled code and instances.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	switch {
	case cfg.memoryLimitPages == 0 || cfg.memoryLimitPages > 65536:
		return nil, fmt.Errorf("new runtime: memory limit %d pages, want 1..65536", cfg.memoryLimitPages)
	case cfg.maxModuleBytes <= 0:
		return nil, fmt.Errorf("new runtime: max module bytes %d, want > 0", cfg.maxModuleBytes)
	case cfg.callTimeout <= 0:
		return nil, fmt.Errorf("new runtime: call timeout %v, want > 0", cfg.callTimeout)
	case cfg.poolSize <= 0:
		return nil, fmt.Errorf("new runtime: pool size %d, want > 0", cfg.poolSize)
	case cfg.maxBatchBytes <= headerSize:
		return nil, fmt.Errorf("new runtime: max batch bytes %d, want > %d", cfg.maxBatchBytes, headerSize)
	}
	r := &Runtime{cfg: cfg}
	var err error
	if r.untrusted, err = newEngine(ctx, cfg, false); err != nil {
		return nil, err
	}
	if r.trusted, err = newEngine(ctx, cfg, true); err != nil {
		return nil, errors.Join(err, r.untrusted.close(ctx))
	}
	return r, nil
}

func newEngine(ctx context.Context, cfg Config, trusted bool) (*engine, error) {
	e := &engine{trusted: trusted}
	if cfg.cacheDir == "" {
		e.cache = wazero.NewCompilationCache()
	} else {
		sub := "untrusted"
		if trusted {
			sub = "trusted"
		}
		c, err := wazero.NewCompilationCacheWithDir(filepath.Join(cfg.cacheDir, sub))
		if err != nil {
			return nil, fmt.Errorf("open compilation cache: %w", err)
		}
		e.cache = c
	}
	rc := wazero.NewRuntimeConfig()
	if cfg.interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	rc = rc.WithCompilationCache(e.cache).
		WithMemoryLimitPages(cfg.memoryLimitPages).
		WithCloseOnContextDone(!trusted)
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		return nil, errors.Join(fmt.Errorf("instantiate wasi: %w", err), e.close(ctx))
	}
	return e, nil
}

func (e *engine) close(ctx context.Context) error {
	return errors.Join(e.rt.Close(ctx), e.cache.Close(ctx))
}

// Close closes every module loaded in r and frees the compiled code. Calls in flight fail.
func (r *Runtime) Close(ctx context.Context) error {
	return errors.Join(r.untrusted.close(ctx), r.trusted.close(ctx))
}

func (r *Runtime) getEncoder() *encoder {
	if e, ok := r.encoders.Get().(*encoder); ok {
		return e
	}
	return &encoder{}
}

func (r *Runtime) putEncoder(e *encoder) {
	// A giant batch should not pin its buffer in the pool forever.
	if cap(e.buf) <= 4*r.cfg.maxBatchBytes {
		r.encoders.Put(e)
	}
}
