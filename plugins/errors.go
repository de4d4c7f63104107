package plugins

import (
	"errors"
	"fmt"
)

// Sentinel errors. Refused modules are not among them: those wrap host.ErrInvalidModule
// with the reason, exactly as the host refuses them, so callers test one sentinel for
// every validation failure wherever it was found.
var (
	// ErrNotFound: no live lens of that name (never uploaded, or deleted).
	ErrNotFound = errors.New("lens not found")
	// ErrBuiltin: the name is a built-in lens's, which cannot be uploaded over or
	// deleted (HTTP 409).
	ErrBuiltin = errors.New("built-in lens")
	// ErrInvalidName: the name does not match [A-Za-z][A-Za-z0-9_-]{0,63}.
	ErrInvalidName = errors.New("invalid lens name")
	// ErrFailed: the lens's live version kept failing (or its module no longer loads) and
	// was taken out of service; uploading the name again puts a new version in.
	ErrFailed = errors.New("lens failed")
	// ErrRetired: a resolver of a version that is no longer live (replaced by a newer
	// upload, or deleted); look the name up again.
	ErrRetired = errors.New("lens version retired")
	// ErrCorrupt: the manifest or a module file does not hold what the registry wrote.
	ErrCorrupt = errors.New("lens registry corrupt")
	// ErrClosed: the registry was closed.
	ErrClosed = errors.New("lens registry closed")
)

// ResolveError is a failed call through a registry resolver. It names the lens as the
// registry knows it (the upload name and version), which may differ from the name the
// module declares (the *host.LensError inside, found with errors.As). ReportFailure
// uses Version to ignore failures of a version that is no longer live.
type ResolveError struct {
	Name    string // canonical registry name
	Version int
	Err     error // usually a *host.LensError
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("lens %s version %d: %v", e.Name, e.Version, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }
