package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stemedb/stemedb/host"
	lenseswasm "github.com/stemedb/stemedb/lenses-wasm"
)

// Defaults of Options.
const (
	// DefaultMaxModuleBytes caps an uploaded module, as the host does by default.
	DefaultMaxModuleBytes = host.DefaultMaxModuleBytes
	// DefaultMaxFailures is how many consecutive failed calls take an uploaded lens out
	// of service. Lenses are pure, so a lens that fails three batches in a row will fail
	// the same way again; a success in between resets the count.
	DefaultMaxFailures = 3
)

// Options configures a Registry. Zero fields take the defaults.
type Options struct {
	// MaxModuleBytes caps an uploaded module's size, checked before anything else.
	// Defaults to DefaultMaxModuleBytes. The runtime's own cap applies as well.
	MaxModuleBytes int
	// MaxFailures is the number of consecutive failures after which an uploaded lens
	// is marked failed. Defaults to DefaultMaxFailures.
	MaxFailures int
	// Now stamps uploads and failures. Defaults to time.Now.
	Now func() time.Time
}

// States of a lens (Info.State).
const (
	StateLive   = "live"
	StateFailed = "failed"
)

// Info describes a lens in service: a built-in, or the live version of an uploaded name.
type Info struct {
	Name         string    `json:"name"`    // canonical name
	Version      int       `json:"version"` // 1 for built-ins
	Hash         string    `json:"hash"`    // BLAKE3-256 of the module, lowercase hex
	Lens         string    `json:"lens"`    // the lens's name inside its module
	BuiltIn      bool      `json:"builtin"`
	Materialized bool      `json:"materialized"`
	UploadedAt   time.Time `json:"uploaded_at,omitzero"` // zero for built-ins
	State        string    `json:"state"`                // StateLive or StateFailed
	Failures     int       `json:"failures"`             // consecutive failures since the last success
	LastError    string    `json:"last_error,omitempty"` // the last failure, or why it is failed
}

// Version is one entry of an uploaded name's history.
type Version struct {
	Version      int        `json:"version"`
	Hash         string     `json:"hash"`
	Lens         string     `json:"lens"`
	Size         int        `json:"size"`
	UploadedAt   time.Time  `json:"uploaded_at,omitzero"`
	Materialized bool       `json:"materialized"`
	Failed       string     `json:"failed,omitempty"` // why the registry took it out of service
	FailedAt     *time.Time `json:"failed_at,omitempty"`
}

// Registry is the set of lenses a node serves: the built-ins and the uploads, with the
// uploads' history. It is safe for concurrent use.
type Registry struct {
	dir   string
	rt    *host.Runtime
	opts  Options
	store moduleStore

	builtins *host.Module

	// commitMu serializes the changes that write the manifest (upload, delete, marking a
	// lens failed, close), so that each write starts from the state the previous one
	// left. It is taken before mu, never after.
	commitMu sync.Mutex

	mu      sync.RWMutex
	closed  bool
	entries map[string]*entry // by lower-case name: built-ins, then uploads (deleted included)
	subs    subscribers
}

// entry is one name.
type entry struct {
	name string
	rec  *lensRecord // nil for built-ins; never modified once set (replaced whole)
	live *version    // nil when deleted
}

// Open opens the registry in dir (the server uses <data-dir>/lenses), creating it if
// needed, and loads the built-in lenses into rt. Uploaded lenses load on first use. The
// caller keeps ownership of rt and closes it after the registry.
func Open(ctx context.Context, dir string, rt *host.Runtime, opts Options) (*Registry, error) {
	switch {
	case rt == nil:
		return nil, errors.New("open lens registry: nil runtime")
	case opts.MaxModuleBytes < 0:
		return nil, fmt.Errorf("open lens registry: max module bytes %d, want >= 0", opts.MaxModuleBytes)
	case opts.MaxFailures < 0:
		return nil, fmt.Errorf("open lens registry: max failures %d, want >= 0", opts.MaxFailures)
	}
	if opts.MaxModuleBytes == 0 {
		opts.MaxModuleBytes = DefaultMaxModuleBytes
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Registry{
		dir:     dir,
		rt:      rt,
		opts:    opts,
		store:   moduleStore{dir: filepath.Join(dir, modulesDir)},
		entries: map[string]*entry{},
	}
	if err := os.MkdirAll(r.store.dir, 0o755); err != nil {
		return nil, fmt.Errorf("open lens registry: %w", err)
	}
	// Make the directories themselves durable, or a crash could lose a manifest whose
	// own fsync succeeded along with the directory that held it.
	for _, d := range []string{r.store.dir, dir, filepath.Dir(dir)} {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("open lens registry: %w", err)
		}
	}
	m, err := readManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("open lens registry: %w", err)
	}
	if err := r.sweep(m); err != nil {
		return nil, fmt.Errorf("open lens registry: %w", err)
	}
	if err := r.openBuiltins(ctx); err != nil {
		return nil, fmt.Errorf("open lens registry: %w", err)
	}
	for i := range m.Lenses {
		rec := &m.Lenses[i]
		e := &entry{name: rec.Name, rec: rec}
		if live := rec.live(); live != nil {
			e.live = newVersion(r, rec.Name, false, *live)
		}
		r.entries[strings.ToLower(rec.Name)] = e
	}
	return r, nil
}

// sweep removes what interrupted writes left: temp files, and module files that no
// version in the manifest names.
func (r *Registry) sweep(m manifest) error {
	keep := map[string]bool{}
	for _, l := range m.Lenses {
		for _, v := range l.Versions {
			keep[v.Hash] = true
		}
	}
	if err := sweepTemp(r.dir); err != nil {
		return err
	}
	return r.store.sweep(keep)
}

func (r *Registry) openBuiltins(ctx context.Context) error {
	m, err := r.rt.LoadBuiltins(ctx)
	if err != nil {
		return err
	}
	r.builtins = m
	hash := ModuleHash(lenseswasm.Builtins())
	for _, name := range host.BuiltinNames() {
		lens, err := m.Lens(name)
		if err != nil {
			return errors.Join(err, m.Close(ctx))
		}
		v := newVersion(r, name, true, versionRecord{
			Version: 1, Hash: hash, Lens: name, Size: len(lenseswasm.Builtins()), Materialized: true,
		})
		v.module, v.lens = m, lens
		r.entries[strings.ToLower(name)] = &entry{name: name, live: v}
	}
	return nil
}

// Close takes every lens out of service and closes their modules (not the runtime).
// Subscriptions end; later calls fail with ErrClosed.
func (r *Registry) Close(ctx context.Context) error {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	var live []*version
	for _, e := range r.entries {
		if e.live != nil {
			live = append(live, e.live)
		}
	}
	r.subs.closeAll()
	r.mu.Unlock()
	var errs []error
	for _, v := range live {
		errs = append(errs, v.retire(ctx))
	}
	errs = append(errs, r.builtins.Close(ctx))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close lens registry: %w", err)
	}
	return nil
}

// lookup returns the live version of name (case-insensitive). Call with mu held.
func (r *Registry) lookup(name string) (*entry, *version, error) {
	if r.closed {
		return nil, nil, ErrClosed
	}
	e := r.entries[strings.ToLower(name)]
	if e == nil || e.live == nil {
		return nil, nil, ErrNotFound
	}
	return e, e.live, nil
}

// Canonical returns the canonical spelling of a lens in service, matched ignoring case.
// Failed lenses are still known (their queries fail with ErrFailed); deleted ones are not.
func (r *Registry) Canonical(name string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, _, err := r.lookup(name)
	if err != nil {
		return "", false
	}
	return e.name, true
}

// Resolver returns the resolver of name's live version, with its description. The
// resolver stays valid until that version is replaced or deleted (then ErrRetired); it
// loads an uploaded module on first use. A failed lens gives ErrFailed with the reason.
func (r *Registry) Resolver(name string) (host.Resolver, Info, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, v, err := r.lookup(name)
	if err != nil {
		return nil, Info{}, fmt.Errorf("lens %q: %w", name, err)
	}
	info := v.info()
	if reason := v.failedReason(); reason != "" {
		return nil, info, fmt.Errorf("lens %s version %d: %w: %s", v.name, v.rec.Version, ErrFailed, reason)
	}
	return v, info, nil
}

// List describes every lens in service, failed ones included: the built-ins in their
// canonical order, then the uploads by name (ignoring case).
func (r *Registry) List() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil
	}
	var out []Info
	for _, name := range host.BuiltinNames() {
		out = append(out, r.entries[strings.ToLower(name)].live.info())
	}
	var uploads []Info
	for _, e := range r.entries {
		if e.rec != nil && e.live != nil {
			uploads = append(uploads, e.live.info())
		}
	}
	slices.SortFunc(uploads, func(a, b Info) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return append(out, uploads...)
}

// Get describes the lens in service called name and its history, oldest first (a
// built-in has one version). A deleted name is ErrNotFound, though its history is kept.
func (r *Registry) Get(name string) (Info, []Version, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, v, err := r.lookup(name)
	if err != nil {
		return Info{}, nil, fmt.Errorf("lens %q: %w", name, err)
	}
	if e.rec == nil {
		return v.info(), []Version{publicVersion(v.rec)}, nil
	}
	versions := make([]Version, len(e.rec.Versions))
	for i, rec := range e.rec.Versions {
		versions[i] = publicVersion(rec)
	}
	versions[v.rec.Version-1] = publicVersion(v.rec) // its failure state may be newer
	return v.info(), versions, nil
}

// Materialized returns the resolvers of the lenses whose winners the materializer keeps
// in `resolved`, by canonical name: the built-ins and the live, not failed, uploads
// marked materialized. A name's resolver is the same value (==) until its live version
// changes, so comparing two snapshots tells a consumer which lenses to backfill (new or
// different resolver) and whose rows to drop (name gone).
func (r *Registry) Materialized() map[string]host.Resolver {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string]host.Resolver{}
	if r.closed {
		return out
	}
	for _, e := range r.entries {
		if v := e.live; v != nil && v.rec.Materialized && v.failedReason() == "" {
			out[e.name] = v
		}
	}
	return out
}

// info describes v. Call with reg.mu held.
func (v *version) info() Info {
	state, last := StateLive, v.lastErr
	if reason := v.failedReason(); reason != "" {
		state, last = StateFailed, reason
	}
	return Info{
		Name:         v.name,
		Version:      v.rec.Version,
		Hash:         v.rec.Hash,
		Lens:         v.rec.Lens,
		BuiltIn:      v.builtin,
		Materialized: v.rec.Materialized,
		UploadedAt:   v.rec.UploadedAt,
		State:        state,
		Failures:     v.consecutive,
		LastError:    last,
	}
}

func publicVersion(rec versionRecord) Version {
	return Version{
		Version:      rec.Version,
		Hash:         rec.Hash,
		Lens:         rec.Lens,
		Size:         rec.Size,
		UploadedAt:   rec.UploadedAt,
		Materialized: rec.Materialized,
		Failed:       rec.Failed,
		FailedAt:     rec.FailedAt,
	}
}
