package plugins

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stemedb/stemedb/host"
)

// lensFault reports whether err is the lens's own doing. Anything else (the caller's
// cancelled context, input the host cannot encode, a module closed under a call, the
// registry's own refusals) says nothing about the lens and is not counted.
func lensFault(err error) bool {
	for _, f := range []error{host.ErrTrap, host.ErrTimeout, host.ErrOutOfMemory, host.ErrBadOutput, host.ErrLensReported} {
		if errors.Is(err, f) {
			return true
		}
	}
	return false
}

// ReportFailure records that a call to the lens called name failed with err. After
// Options.MaxFailures consecutive failures an uploaded lens is marked failed: it leaves
// Materialized, Resolver answers ErrFailed with the reason, subscribers are told, and
// the mark is persisted, so it holds across restarts until the name is uploaded again.
// Built-ins are counted but never marked (they cannot be re-uploaded).
//
// Ignored: errors that are not the lens's fault (see lensFault), names not in service,
// and a *ResolveError of a version that is no longer live (a failure of the version an
// upload just replaced says nothing about the new one). The error returned is the
// manifest write's when marking; the mark holds in memory regardless.
func (r *Registry) ReportFailure(name string, err error) error {
	if err == nil || !lensFault(err) {
		return nil
	}
	r.mu.Lock()
	_, v, lerr := r.lookup(name)
	var re *ResolveError
	if lerr != nil || errors.As(err, &re) && (re.Version != v.rec.Version || !strings.EqualFold(re.Name, v.name)) {
		r.mu.Unlock()
		return nil
	}
	v.consecutive++
	v.lastErr = err.Error()
	trip := !v.builtin && v.consecutive >= r.opts.MaxFailures && v.failedReason() == ""
	reason := fmt.Sprintf("%d consecutive failures, the last: %s", v.consecutive, v.lastErr)
	r.mu.Unlock()
	if !trip {
		return nil
	}
	return r.markFailed(v, reason)
}

// ReportSuccess records that a call to the lens called name succeeded, which resets its
// count of consecutive failures.
func (r *Registry) ReportSuccess(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, v, err := r.lookup(name); err == nil {
		v.consecutive, v.lastErr = 0, ""
	}
}

// markFailed takes v out of service and persists why.
func (r *Registry) markFailed(v *version, reason string) error {
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	r.mu.Lock()
	e := r.entries[strings.ToLower(v.name)]
	if r.closed || e == nil || e.live != v || v.rec.Failed != "" {
		r.mu.Unlock()
		return nil // replaced, deleted or marked meanwhile
	}
	now := r.opts.Now().UTC()
	rec := cloneRecord(e.rec)
	rec.Versions[v.rec.Version-1].Failed = reason
	rec.Versions[v.rec.Version-1].FailedAt = &now
	v.rec.Failed, v.rec.FailedAt = reason, &now
	// Memory goes first: the lens is out of service even if the write below fails, and
	// the next manifest write carries the mark.
	e.rec = &rec
	next := r.manifestLocked(nil)
	r.mu.Unlock()
	r.notify()
	if err := writeManifest(r.dir, next); err != nil {
		return fmt.Errorf("mark lens %s failed: %w", v.name, err)
	}
	return nil
}

// loadRefused counts a refusal of v's module by the host at load; Options.MaxFailures
// of them in a row take it out of service (markUnloadable).
func (r *Registry) loadRefused(v *version, err error) {
	r.mu.Lock()
	v.loadRefusals++
	trip := v.loadRefusals >= r.opts.MaxFailures
	r.mu.Unlock()
	if trip {
		r.markUnloadable(v, err)
	}
}

// markUnloadable takes v out of service until the next Open because its module cannot
// be loaded (file missing or damaged, or refused by the host again and again). This is
// kept in memory only: it describes the machine, not the lens, and a restart after the
// file or the limits are fixed should bring the lens back without an upload.
func (r *Registry) markUnloadable(v *version, err error) {
	r.mu.Lock()
	changed := v.loadErr == ""
	if changed {
		v.loadErr = "load module: " + err.Error()
	}
	r.mu.Unlock()
	if changed {
		r.notify()
	}
}
