package plugins

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stemedb/stemedb/host"
)

// Upload installs wasm as a new version of the lens called name, live at once. The
// module is checked before anything is stored, and every refusal wraps
// host.ErrInvalidModule with the reason: the size cap, the host's validation (see
// host.Runtime.Validate), the choice of lens (see pickLens) and a smoke call on a small
// sample of ordinary groups. A name must be valid (ErrInvalidName) and not a built-in's
// (ErrBuiltin). Uploading under an existing name, even a deleted one, adds a version to
// its history; the first upload's spelling stays the canonical name.
func (r *Registry) Upload(ctx context.Context, name string, wasm []byte, materialized bool) (Info, error) {
	if !host.ValidLensName(name) {
		return Info{}, fmt.Errorf("upload lens %q: %w: want [A-Za-z][A-Za-z0-9_-]{0,63}", name, ErrInvalidName)
	}
	if isBuiltin(name) {
		return Info{}, fmt.Errorf("upload lens %q: %w: the name is taken by a built-in lens", name, ErrBuiltin)
	}
	if r.isClosed() {
		return Info{}, fmt.Errorf("upload lens %q: %w", name, ErrClosed)
	}
	m, lens, err := r.load(ctx, name, wasm)
	if err != nil {
		return Info{}, fmt.Errorf("upload lens %q: %w", name, err)
	}
	if err := smokeTest(ctx, lens); err != nil {
		return Info{}, fmt.Errorf("upload lens %q: %w", name, joinClose(ctx, err, m))
	}
	info, err := r.install(ctx, name, wasm, m, lens, materialized)
	if err != nil {
		return Info{}, fmt.Errorf("upload lens %q: %w", name, joinClose(ctx, err, m))
	}
	return info, nil
}

// TestModule runs the lens called name of a module that is not installed over groups,
// with the same validation and untrusted limits as an upload but no smoke call (the
// caller's groups are the test): the dry run of POST /v1/lenses/test. name picks the
// lens as Upload does and may be empty for a module with one lens. Nothing is stored.
// Refusals wrap host.ErrInvalidModule; a failed call is a *host.LensError.
func (r *Registry) TestModule(ctx context.Context, wasm []byte, name string, groups []host.Group) ([][]int, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("test lens module: %w", ErrClosed)
	}
	m, lens, err := r.load(ctx, name, wasm)
	if err != nil {
		return nil, fmt.Errorf("test lens module: %w", err)
	}
	res, err := lens.Resolve(ctx, groups)
	if cerr := m.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("test lens module: %w", err)
	}
	return res, nil
}

// load checks and compiles an untrusted module and picks the lens name designates.
func (r *Registry) load(ctx context.Context, name string, wasm []byte) (*host.Module, *host.Lens, error) {
	if len(wasm) > r.opts.MaxModuleBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", host.ErrInvalidModule, len(wasm), r.opts.MaxModuleBytes)
	}
	m, err := r.rt.Load(ctx, wasm)
	if err != nil {
		if ctx.Err() != nil {
			// The host reports an interrupted start as a refusal; it is the caller's.
			return nil, nil, ctx.Err()
		}
		return nil, nil, err
	}
	lens, err := pickLens(m, name)
	if err != nil {
		return nil, nil, joinClose(ctx, err, m)
	}
	return m, lens, nil
}

// pickLens chooses the lens an upload called name runs. A module may hold up to 64
// lenses (the ABI allows it, and the built-ins share one), but a registry name stands
// for one lens:
//   - the module's lens called name (ignoring case), if it has one; so one module
//     uploaded under several of its lens names installs each of them;
//   - else the module's only lens, so a single-lens module may be uploaded under any
//     name;
//   - else the upload is refused: picking "the first" would silently depend on the
//     order the module registers its lenses.
func pickLens(m *host.Module, name string) (*host.Lens, error) {
	names := m.Info().Lenses
	for _, n := range names {
		if name != "" && strings.EqualFold(n, name) {
			return m.Lens(n)
		}
	}
	if len(names) == 1 {
		return m.Lens(names[0])
	}
	return nil, fmt.Errorf("%w: the module holds %d lenses (%s) and none is called %q: name the upload after the lens to install",
		host.ErrInvalidModule, len(names), strings.Join(names, ", "), name)
}

// install stores the module and commits a new live version for name, then swaps it in,
// retiring the version it replaces. m and lens are the checked module, kept loaded.
func (r *Registry) install(ctx context.Context, name string, wasm []byte, m *host.Module, lens *host.Lens, materialized bool) (Info, error) {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	r.mu.RLock()
	closed := r.closed
	key := strings.ToLower(name)
	old := r.entries[key]
	r.mu.RUnlock()
	if closed {
		return Info{}, ErrClosed
	}

	rec := lensRecord{Name: name}
	if old != nil && old.rec != nil {
		rec = cloneRecord(old.rec)
	}
	hash := ModuleHash(wasm)
	vr := versionRecord{
		Version:      len(rec.Versions) + 1,
		Hash:         hash,
		Lens:         lens.Name(),
		Size:         len(wasm),
		UploadedAt:   r.opts.Now().UTC(),
		Materialized: materialized,
	}
	rec.Versions = append(rec.Versions, vr)
	rec.Live, rec.Deleted, rec.DeletedAt = vr.Version, false, nil

	// Module first, manifest second: a crash in between leaves a file no version names,
	// which the next Open sweeps, never a version without its module.
	if err := r.store.put(hash, wasm); err != nil {
		return Info{}, err
	}
	r.mu.RLock()
	next := r.manifestLocked(&rec)
	r.mu.RUnlock()
	if err := writeManifest(r.dir, next); err != nil {
		if !r.referenced(hash) {
			// Leave the directory as the manifest on disk describes it.
			if rmErr := r.store.remove(hash); rmErr != nil {
				return Info{}, fmt.Errorf("%w (and %v)", err, rmErr)
			}
		}
		return Info{}, err
	}

	v := newVersion(r, rec.Name, false, vr)
	v.module, v.lens = m, lens
	r.mu.Lock()
	r.entries[key] = &entry{name: rec.Name, rec: &rec, live: v}
	info := v.info()
	r.mu.Unlock()
	if old != nil && old.live != nil {
		// The upload is done; failing to free the old version's compiled code must not
		// turn it into an error the client would retry.
		_ = old.live.retire(ctx)
	}
	r.notify()
	return info, nil
}

// Delete takes the uploaded lens called name out of service. Its history and module
// files are kept (see doc.go); uploading the name again continues the history. A
// built-in is ErrBuiltin; a name not in service, ErrNotFound.
func (r *Registry) Delete(ctx context.Context, name string) error {
	if isBuiltin(name) {
		return fmt.Errorf("delete lens %q: %w: built-in lenses cannot be deleted", name, ErrBuiltin)
	}
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	r.mu.RLock()
	old, _, err := r.lookup(name)
	r.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("delete lens %q: %w", name, err)
	}
	rec := cloneRecord(old.rec)
	now := r.opts.Now().UTC()
	rec.Deleted, rec.DeletedAt = true, &now
	r.mu.RLock()
	next := r.manifestLocked(&rec)
	r.mu.RUnlock()
	if err := writeManifest(r.dir, next); err != nil {
		return fmt.Errorf("delete lens %q: %w", name, err)
	}
	r.mu.Lock()
	r.entries[strings.ToLower(rec.Name)] = &entry{name: rec.Name, rec: &rec}
	r.mu.Unlock()
	err = old.live.retire(ctx)
	r.notify()
	if err != nil {
		return fmt.Errorf("delete lens %q: %w", name, err)
	}
	return nil
}

// manifestLocked is the manifest of the current records with rec in place of (or added
// as) its name's record. Call with mu held.
func (r *Registry) manifestLocked(rec *lensRecord) manifest {
	m := manifest{Format: manifestFormat}
	key := ""
	if rec != nil {
		key = strings.ToLower(rec.Name)
		m.Lenses = append(m.Lenses, *rec)
	}
	for k, e := range r.entries {
		if e.rec != nil && k != key {
			m.Lenses = append(m.Lenses, *e.rec)
		}
	}
	sortLenses(m.Lenses)
	return m
}

// referenced reports whether any version in the registry names the module hash.
func (r *Registry) referenced(hash string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, e := range r.entries {
		if e.rec == nil {
			continue
		}
		for _, v := range e.rec.Versions {
			if v.Hash == hash {
				return true
			}
		}
	}
	return false
}

func (r *Registry) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

// cloneRecord copies a record deeply enough to change it without touching the original,
// which readers may hold.
func cloneRecord(rec *lensRecord) lensRecord {
	c := *rec
	c.Versions = slices.Clone(rec.Versions)
	return c
}

// joinClose closes m when err is not nil and returns err with any close error.
func joinClose(ctx context.Context, err error, m *host.Module) error {
	if err == nil {
		return nil
	}
	if cerr := m.Close(ctx); cerr != nil {
		return fmt.Errorf("%w (and closing the module: %v)", err, cerr)
	}
	return err
}
