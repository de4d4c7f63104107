package host

import (
	"context"
	"fmt"
)

// Lens is one lens of a Module. It implements Resolver and is safe for concurrent use:
// each call borrows an instance from the lens's pool, which never lends one instance to
// two calls at once.
type Lens struct {
	module *Module
	name   string
	index  uint32 // position in the module's lens table

	// pool holds one token per instance the lens may run: an idle *instance, or nil for
	// a slot not started yet (or whose instance was retired). Its capacity bounds the
	// lens's concurrency and memory.
	pool chan *instance
}

var _ Resolver = (*Lens)(nil)

func newLens(m *Module, name string, index uint32, poolSize int) *Lens {
	l := &Lens{module: m, name: name, index: index, pool: make(chan *instance, poolSize)}
	for range poolSize {
		l.pool <- nil
	}
	return l
}

// Name is the lens's name as its module declares it.
func (l *Lens) Name() string { return l.name }

// Resolve returns the winners of each group. Inputs over the batch limit go in several
// calls, all on one instance. Failures are *LensError naming the lens; an instance that
// failed in any way is retired, as is one whose memory grew past the recycle threshold.
func (l *Lens) Resolve(ctx context.Context, groups []Group) ([][]int, error) {
	results := make([][]int, len(groups))
	if len(groups) == 0 {
		return results, nil
	}
	if l.module.closed.Load() {
		return nil, l.fail(fmt.Errorf("resolve: %w", ErrClosed))
	}
	enc := l.module.rt.getEncoder()
	defer l.module.rt.putEncoder(enc)

	in, err := l.acquire(ctx)
	if err != nil {
		return nil, l.fail(err)
	}
	healthy := false
	defer func() { l.release(ctx, in, healthy) }()

	maxBytes := l.module.rt.cfg.maxBatchBytes
	for start := 0; start < len(groups); {
		// Take groups while they fit; agents count at their worst (one per signer).
		end, size := start, headerSize
		for end < len(groups) {
			gs, signers := inputSize(&groups[end])
			gs += agentSize * signers
			if end > start && size+gs > maxBytes {
				break
			}
			size += gs
			end++
		}
		if err := l.call(ctx, in, enc, groups[start:end], results[start:end]); err != nil {
			return nil, l.fail(err)
		}
		start = end
	}
	healthy = in.memoryBytes() <= l.module.rt.cfg.recycleAbove()
	return results, nil
}

func (l *Lens) call(ctx context.Context, in *instance, enc *encoder, groups []Group, results [][]int) error {
	input, err := enc.encode(groups)
	if err != nil {
		return err
	}
	callCtx := ctx
	if !l.module.eng.trusted {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, l.module.rt.cfg.callTimeout)
		defer cancel()
	} else if err := ctx.Err(); err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	out, err := in.call(callCtx, l.index, input)
	if err != nil {
		if ctx.Err() != nil { // the caller gave up: not the lens's fault
			return fmt.Errorf("resolve: %w", ctx.Err())
		}
		return err
	}
	return in.decoder.decode(out, groups, results)
}

// acquire takes a pool token, starting an instance if the token is an empty slot.
func (l *Lens) acquire(ctx context.Context) (*instance, error) {
	var in *instance
	select {
	case in = <-l.pool:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an instance: %w", ctx.Err())
	}
	if in != nil {
		return in, nil
	}
	in, err := l.module.instantiate(ctx)
	if err != nil {
		l.pool <- nil // give the slot back
		return nil, err
	}
	return in, nil
}

// release returns the token: the instance if it is healthy, else an empty slot.
func (l *Lens) release(ctx context.Context, in *instance, healthy bool) {
	if !healthy || l.module.closed.Load() {
		in.close(ctx)
		in = nil
	}
	l.pool <- in
	// The module may have closed between the check above and the return: its drain
	// then missed this instance, so drain again rather than leave it running.
	if in != nil && l.module.closed.Load() {
		l.drain(ctx)
	}
}

// drain closes the idle instances; busy ones are closed by release.
func (l *Lens) drain(ctx context.Context) {
	for range cap(l.pool) {
		select {
		case in := <-l.pool:
			if in != nil {
				in.close(ctx)
			}
			defer func() { l.pool <- nil }()
		default:
			return
		}
	}
}

func (l *Lens) fail(err error) error { return &LensError{Lens: l.name, Err: err} }
