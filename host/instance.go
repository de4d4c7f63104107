package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// instance is one instantiated lens module. It serves one call at a time: the Go runtime
// inside is single-threaded and its buffers are reused per call, so two goroutines in one
// instance silently get wrong answers. The pool guarantees exclusive use.
type instance struct {
	mod     api.Module
	mem     api.Memory
	alloc   api.Function
	resolve api.Function
	stderr  *headWriter
	decoder outputDecoder

	inPtr, inCap uint32 // the guest's input buffer from the last stemedb_alloc
	stack        [3]uint64
	limit        uint64      // the memory limit in bytes, to recognize exhaustion
	busy         atomic.Bool // guards the one-call-at-a-time rule against pool bugs
}

// instantiate starts an instance of compiled: WASI with no file system, no network, the
// fake (deterministic) clock and random source, no arguments or environment, stdout
// dropped and the tail of stderr kept to explain a crash. _initialize runs the guest's
// package initialization, where lenses register.
func instantiate(ctx context.Context, e *engine, compiled wazero.CompiledModule, limitPages uint32) (*instance, error) {
	in := &instance{stderr: &headWriter{max: 2048}, limit: uint64(limitPages) * 65536}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: any number of instances may coexist
		WithStartFunctions(exportInitialize).
		WithStderr(in.stderr)
	mod, err := e.rt.InstantiateModule(ctx, compiled, cfg)
	if err != nil {
		return nil, in.explain(ctx, err, "initialize")
	}
	in.mod = mod
	in.mem = mod.ExportedMemory(exportMemory)
	in.alloc = mod.ExportedFunction(exportAlloc)
	in.resolve = mod.ExportedFunction(exportResolve)
	if in.mem == nil || in.alloc == nil || in.resolve == nil {
		// Validation checked the exports; this is a defect, not a bad module.
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("instantiate: %w: exports missing after validation", ErrTrap)
	}
	return in, nil
}

// call runs stemedb_resolve on input and returns the result region, a view of guest
// memory valid until the next call.
func (in *instance) call(ctx context.Context, lens uint32, input []byte) ([]byte, error) {
	if !in.busy.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("call: %w: instance already in use (pool defect)", ErrTrap)
	}
	defer in.busy.Store(false)
	in.stderr.reset()
	n := uint32(len(input))
	if n > in.inCap || in.inCap == 0 {
		in.stack[0] = uint64(n)
		if err := in.alloc.CallWithStack(ctx, in.stack[:]); err != nil {
			return nil, in.explain(ctx, err, "alloc")
		}
		ptr := uint32(in.stack[0])
		if ptr == 0 {
			return nil, fmt.Errorf("alloc %d bytes: %w: null pointer", n, ErrOutOfMemory)
		}
		in.inPtr, in.inCap = ptr, n
	}
	if !in.mem.Write(in.inPtr, input) {
		return nil, fmt.Errorf("write input: %w: buffer %d+%d outside memory", ErrBadOutput, in.inPtr, n)
	}
	in.stack[0], in.stack[1], in.stack[2] = uint64(lens), uint64(in.inPtr), uint64(n)
	if err := in.resolve.CallWithStack(ctx, in.stack[:]); err != nil {
		return nil, in.explain(ctx, err, "resolve")
	}
	packed := in.stack[0]
	ptr, size := uint32(packed>>32), uint32(packed)
	out, ok := in.mem.Read(ptr, size)
	if !ok {
		return nil, fmt.Errorf("read output: %w: region %d+%d outside memory", ErrBadOutput, ptr, size)
	}
	return out, nil
}

// memoryBytes is the instance's current linear memory size.
func (in *instance) memoryBytes() uint64 { return uint64(in.mem.Size()) }

func (in *instance) close(ctx context.Context) {
	if in.mod != nil {
		_ = in.mod.Close(ctx) // the instance is being dropped; nothing to do on failure
	}
}

// explain turns a failed guest call into a sentinel: the caller's own cancellation stays
// a context error, a deadline is ErrTimeout, a Go runtime that died of memory exhaustion
// is ErrOutOfMemory, anything else is ErrTrap. The guest's last stderr lines say why.
func (in *instance) explain(ctx context.Context, err error, op string) error {
	tail := in.stderr.String()
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case isExit && exit.ExitCode() == sys.ExitCodeDeadlineExceeded,
		ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, ErrTimeout)
	case isExit && exit.ExitCode() == sys.ExitCodeContextCanceled, ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, context.Canceled)
	case strings.Contains(tail, "out of memory"),
		in.mem != nil && in.limit > 0 && in.memoryBytes() >= in.limit-in.limit/16:
		// Go guests say so on stderr; others trap right after memory.grow failed, with
		// their memory at the limit.
		return fmt.Errorf("%s: %w: %s", op, ErrOutOfMemory, firstLines(tail))
	case tail != "":
		return fmt.Errorf("%s: %w: %s: %s", op, ErrTrap, firstLine(err), firstLines(tail))
	}
	return fmt.Errorf("%s: %w: %s", op, ErrTrap, firstLine(err))
}

// firstLine drops the wasm stack trace wazero appends: the first line says what happened
// and a message naming guest function indices helps nobody in an HTTP answer.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// firstLines keeps the start of a guest's stderr, short enough for an error message: Go
// prints the reason, a blank line, then a goroutine dump that helps nobody here.
func firstLines(s string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.TrimSpace(line) == "" || len(keep) == 3 {
			break
		}
		keep = append(keep, strings.TrimSpace(line))
	}
	return sanitize([]byte(strings.Join(keep, " | ")))
}

// headWriter keeps the first max bytes written since the last reset: a crashing Go guest
// prints the reason first, then an unbounded stack dump.
type headWriter struct {
	buf bytes.Buffer
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *headWriter) reset()         { w.buf.Reset() }
func (w *headWriter) String() string { return w.buf.String() }
