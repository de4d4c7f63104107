package plugins

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/stemedb/stemedb/host"
)

// version is one version of a lens in service (built-in, or the live version of an
// uploaded name). It is the host.Resolver the registry hands out: one value per version,
// so a consumer can tell "same lens" from "replaced" by comparing resolvers with ==.
// An uploaded version loads its module on first use, from the module store and the
// compilation cache.
type version struct {
	reg     *Registry
	name    string // canonical registry name
	builtin bool
	rec     versionRecord // as persisted; Failed is updated under reg.mu

	// Failure tracking, guarded by reg.mu.
	consecutive  int    // failures since the last success
	lastErr      string // the last failure's message
	loadRefusals int    // consecutive refusals of the module by the host at load
	loadErr      string // why the module cannot be loaded; in memory only (see doc.go)

	loading chan struct{} // a one-token semaphore: one load at a time, waiters can give up

	mu      sync.Mutex // guards module, lens and retired
	module  *host.Module
	lens    *host.Lens
	retired bool
}

var _ host.Resolver = (*version)(nil)

func newVersion(reg *Registry, name string, builtin bool, rec versionRecord) *version {
	return &version{reg: reg, name: name, builtin: builtin, rec: rec, loading: make(chan struct{}, 1)}
}

// failedReason says why the version is out of service, or "" when it is not. Call with
// reg.mu held.
func (v *version) failedReason() string {
	if v.rec.Failed != "" {
		return v.rec.Failed
	}
	return v.loadErr
}

// Resolve runs the version's lens. Errors are *ResolveError values naming the version.
func (v *version) Resolve(ctx context.Context, groups []host.Group) ([][]int, error) {
	v.reg.mu.RLock()
	closed, reason := v.reg.closed, v.failedReason()
	v.reg.mu.RUnlock()
	if closed {
		return nil, v.fail(ErrClosed)
	}
	if reason != "" {
		return nil, v.fail(fmt.Errorf("%w: %s", ErrFailed, reason))
	}
	lens, err := v.load(ctx)
	if err != nil {
		return nil, v.fail(err)
	}
	res, err := lens.Resolve(ctx, groups)
	if err != nil {
		if errors.Is(err, host.ErrClosed) && v.isRetired() {
			err = fmt.Errorf("%w: %w", ErrRetired, err) // replaced or deleted mid-call
		}
		return nil, v.fail(err)
	}
	return res, nil
}

func (v *version) fail(err error) error {
	return &ResolveError{Name: v.name, Version: v.rec.Version, Err: err}
}

func (v *version) isRetired() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.retired
}

// load returns the version's lens, loading its module on first use.
func (v *version) load(ctx context.Context) (*host.Lens, error) {
	if l, err := v.loaded(); l != nil || err != nil {
		return l, err
	}
	select {
	case v.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("load module: %w", ctx.Err())
	}
	defer func() { <-v.loading }()
	if l, err := v.loaded(); l != nil || err != nil {
		return l, err // loaded while we waited
	}
	wasm, err := v.reg.store.get(v.rec.Hash)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCorrupt) {
			// Gone or damaged: no retry brings it back. Other read errors may pass.
			v.reg.markUnloadable(v, err)
			return nil, fmt.Errorf("%w: %w", ErrFailed, err)
		}
		return nil, fmt.Errorf("load module: %w", err)
	}
	m, err := v.reg.rt.Load(ctx, wasm)
	if err != nil {
		if ctx.Err() != nil {
			// The host reports an interrupted start as a refusal; it is the caller's.
			return nil, fmt.Errorf("load module: %w", ctx.Err())
		}
		if errors.Is(err, host.ErrInvalidModule) {
			// Accepted at upload, refused now: the host's limits changed, or its start
			// timed out on a busy machine. Only repeated refusals take it out of service.
			v.reg.loadRefused(v, err)
		}
		return nil, fmt.Errorf("load module: %w", err)
	}
	lens, err := m.Lens(v.rec.Lens)
	if err != nil {
		err = fmt.Errorf("%w: module %s no longer has lens %s", host.ErrInvalidModule, v.rec.Hash, v.rec.Lens)
		v.reg.markUnloadable(v, err)
		return nil, errors.Join(fmt.Errorf("%w: %w", ErrFailed, err), m.Close(ctx))
	}
	if !v.install(m, lens) {
		return nil, errors.Join(fmt.Errorf("load module: %w", ErrRetired), m.Close(ctx))
	}
	return lens, nil
}

// loaded returns the lens if the module is loaded, ErrRetired if the version was retired.
func (v *version) loaded() (*host.Lens, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.retired {
		return nil, ErrRetired
	}
	return v.lens, nil
}

// install sets the loaded module unless the version was retired meanwhile.
func (v *version) install(m *host.Module, lens *host.Lens) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.retired {
		return false
	}
	v.module, v.lens = m, lens
	return true
}

// retire takes the version out of service for good: later calls fail with ErrRetired,
// calls in flight finish or fail, and its module is closed (built-ins share the
// registry's built-in module, closed by Close).
func (v *version) retire(ctx context.Context) error {
	v.mu.Lock()
	m := v.module
	v.retired, v.module, v.lens = true, nil, nil
	v.mu.Unlock()
	if m == nil || v.builtin {
		return nil
	}
	if err := m.Close(ctx); err != nil {
		return fmt.Errorf("close lens %s version %d: %w", v.name, v.rec.Version, err)
	}
	return nil
}
