package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
)

// Module is a validated, compiled lens module and its lenses. It is safe for concurrent
// use.
type Module struct {
	rt       *Runtime
	eng      *engine
	compiled wazero.CompiledModule
	info     ModuleInfo
	lenses   []*Lens
	closed   atomic.Bool
}

// Load validates an untrusted module (see Validate for the rules) and compiles it. Its
// calls run under the call timeout, in a runtime that terminates a guest whose context is
// done.
func (r *Runtime) Load(ctx context.Context, wasm []byte) (*Module, error) {
	return r.load(ctx, r.untrusted, wasm)
}

// LoadTrusted loads a module the server ships (the built-ins): the same validation and
// ABI, but calls are bounded only by the caller's context, checked between calls, which
// spares the cost of making every call interruptible.
func (r *Runtime) LoadTrusted(ctx context.Context, wasm []byte) (*Module, error) {
	return r.load(ctx, r.trusted, wasm)
}

func (r *Runtime) load(ctx context.Context, e *engine, wasm []byte) (*Module, error) {
	if err := r.checkShape(wasm); err != nil {
		return nil, err
	}
	compiled, err := e.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, invalidModule("compile: %v", err)
	}
	if err := checkSignatures(compiled); err != nil {
		return nil, errors.Join(err, compiled.Close(ctx))
	}
	names, version, err := r.probe(ctx, e, compiled)
	if err != nil {
		return nil, errors.Join(err, compiled.Close(ctx))
	}
	m := &Module{
		rt:       r,
		eng:      e,
		compiled: compiled,
		info:     ModuleInfo{ABIVersion: version, Lenses: names, Size: len(wasm)},
	}
	for i, name := range names {
		m.lenses = append(m.lenses, newLens(m, name, uint32(i), r.cfg.poolSize))
	}
	return m, nil
}

// Info describes the module.
func (m *Module) Info() ModuleInfo {
	info := m.info
	info.Lenses = append([]string(nil), m.info.Lenses...)
	return info
}

// Lens returns the module's lens called name, matched case-insensitively.
func (m *Module) Lens(name string) (*Lens, error) {
	for _, l := range m.lenses {
		if strings.EqualFold(l.name, name) {
			return l, nil
		}
	}
	return nil, fmt.Errorf("lens %q: %w", name, ErrUnknownLens)
}

// Close stops the module's idle instances and frees its compiled code. Calls in flight
// finish or fail; later calls fail with ErrClosed.
func (m *Module) Close(ctx context.Context) error {
	if m.closed.Swap(true) {
		return nil
	}
	for _, l := range m.lenses {
		l.drain(ctx)
	}
	return m.compiled.Close(ctx)
}

func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	if !m.eng.trusted {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.rt.cfg.callTimeout)
		defer cancel()
	}
	return instantiate(ctx, m.eng, m.compiled, m.rt.cfg.memoryLimitPages)
}
