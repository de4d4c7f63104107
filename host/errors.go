package host

import (
	"errors"
	"fmt"
)

// Sentinel errors. Failures of a lens call come wrapped in a *LensError that names the
// lens; errors.Is finds the sentinel through it.
var (
	// ErrInvalidModule: a module failed validation; the message says which rule.
	ErrInvalidModule = errors.New("invalid module")
	// ErrTrap: the guest trapped, panicked or exited.
	ErrTrap = errors.New("lens trapped")
	// ErrTimeout: the call ran past its deadline and the instance was terminated.
	ErrTimeout = errors.New("lens timed out")
	// ErrOutOfMemory: the guest ran out of its memory limit.
	ErrOutOfMemory = errors.New("lens ran out of memory")
	// ErrBadOutput: the guest returned a result that breaks the ABI (bad pointer or
	// length, an index out of range or twice, a wrong count).
	ErrBadOutput = errors.New("lens returned bad output")
	// ErrLensReported: the guest answered with the error status and a message.
	ErrLensReported = errors.New("lens reported an error")
	// ErrBadInput: the groups cannot be encoded (a non-finite confidence or trust, a
	// count past the ABI's u32 fields).
	ErrBadInput = errors.New("bad lens input")
	// ErrUnknownLens: the module has no lens of that name.
	ErrUnknownLens = errors.New("unknown lens")
	// ErrClosed: the module or runtime was closed.
	ErrClosed = errors.New("closed")
)

// LensError is a failed lens call. Callers answer it with lens_failed naming Lens.
type LensError struct {
	Lens string // the lens's name as its module declares it
	Err  error  // wraps one of the sentinels above, or the caller's context error
}

func (e *LensError) Error() string { return "lens " + e.Lens + ": " + e.Err.Error() }

func (e *LensError) Unwrap() error { return e.Err }

// invalidModule wraps ErrInvalidModule with the reason, for Validate's refusals.
func invalidModule(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModule, fmt.Sprintf(format, args...))
}
