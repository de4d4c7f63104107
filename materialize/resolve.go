package materialize

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/sqlview"
)

// lensResult is one lens's answer for a chunk.
type lensResult struct {
	lens    string
	winners [][]int // per group: indices into its candidates; nil where failed
	failed  []bool  // per group: the lens failed on it
	nFailed int
}

// resolveAll calls every lens on the whole chunk, the lenses in parallel (each call is
// single-threaded; the chunk's commit waits for all of them anyway). A lens failure is
// not an error here: it is recorded in the result. The error is ctx's, when it ends.
func (m *Materializer) resolveAll(ctx context.Context, lenses []namedResolver, groups []host.Group) ([]lensResult, error) {
	out := make([]lensResult, len(lenses))
	var wg sync.WaitGroup
	for i, l := range lenses {
		wg.Go(func() { out[i] = m.resolveLens(ctx, l, groups) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	return out, nil
}

// resolveLens calls one lens on groups. If the call fails, the batch is split in halves
// and each half tried again, down to single groups, so that one group that makes the
// lens trap costs the lens only that group, not the whole chunk.
func (m *Materializer) resolveLens(ctx context.Context, l namedResolver, groups []host.Group) lensResult {
	res := lensResult{lens: l.name, winners: make([][]int, len(groups)), failed: make([]bool, len(groups))}
	start := time.Now()
	var st LensStats
	var lastErr error
	m.bisect(ctx, l, groups, res.winners, res.failed, &st, &lastErr)
	for _, f := range res.failed {
		if f {
			res.nFailed++
		}
	}
	st.Groups = uint64(len(groups) - res.nFailed)
	st.Failures = uint64(res.nFailed)
	st.ResolveTime = time.Since(start)
	m.addLensStats(l.name, st)
	if m.opts.OnLensOutcome != nil && ctx.Err() == nil {
		if res.nFailed == 0 {
			lastErr = nil
		}
		m.opts.OnLensOutcome(l.name, lastErr)
	}
	if res.nFailed > 0 && ctx.Err() == nil {
		m.opts.Logger.Warn("materialize: lens failed; groups held back for retry",
			"lens", l.name, "groups", res.nFailed, "of", len(groups), "err", st.LastError)
	}
	return res
}

func (m *Materializer) bisect(ctx context.Context, l namedResolver, groups []host.Group, winners [][]int, failed []bool, st *LensStats, lastErr *error) {
	if len(groups) == 0 {
		return
	}
	st.Calls++
	got, err := call(ctx, l, groups)
	if err == nil {
		copy(winners, got)
		return
	}
	if ctx.Err() != nil { // shutting down: not the lens's fault, and nothing will commit
		for i := range failed {
			failed[i] = true
		}
		return
	}
	st.FailedCalls++
	*lastErr = err
	st.LastError = err.Error()
	st.LastErrorAt = time.Now()
	if len(groups) == 1 {
		failed[0] = true
		return
	}
	half := len(groups) / 2
	m.bisect(ctx, l, groups[:half], winners[:half], failed[:half], st, lastErr)
	m.bisect(ctx, l, groups[half:], winners[half:], failed[half:], st, lastErr)
}

// call is one Resolve call whose answer is checked: a resolver that is not a host.Lens
// (e.g. a plain-Go one) gets no checks from the host, and bad indices must fail the
// lens, not the materializer.
func call(ctx context.Context, l namedResolver, groups []host.Group) (res [][]int, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &host.LensError{Lens: l.name, Err: fmt.Errorf("%w: panic: %v", host.ErrTrap, p)}
		}
	}()
	res, err = l.r.Resolve(ctx, groups)
	if err != nil {
		var le *host.LensError
		if !errors.As(err, &le) {
			err = &host.LensError{Lens: l.name, Err: err}
		}
		return nil, err
	}
	if len(res) != len(groups) {
		return nil, &host.LensError{Lens: l.name,
			Err: fmt.Errorf("%w: %d results for %d groups", host.ErrBadOutput, len(res), len(groups))}
	}
	var seen []bool
	for gi, w := range res {
		n := len(groups[gi].Candidates)
		if cap(seen) < n {
			seen = make([]bool, n)
		}
		seen = seen[:n]
		for _, i := range w {
			if i < 0 || i >= n || seen[i] {
				return nil, &host.LensError{Lens: l.name,
					Err: fmt.Errorf("%w: group %d: winner %d out of range or repeated", host.ErrBadOutput, gi, i)}
			}
			seen[i] = true
		}
		for _, i := range w {
			seen[i] = false
		}
	}
	return res, nil
}

// HostGroups converts loaded groups to lens input, with one backing array for all
// candidates and one for all signers. The query path's on-the-fly lenses use it too.
func HostGroups(groups []sqlview.Group) []host.Group {
	nc, ns := 0, 0
	for i := range groups {
		nc += len(groups[i].Candidates)
		for j := range groups[i].Candidates {
			ns += len(groups[i].Candidates[j].Signers)
		}
	}
	out := make([]host.Group, len(groups))
	cands := make([]host.Candidate, nc)
	signers := make([]host.Signer, ns)
	for i := range groups {
		g := &groups[i]
		hc := cands[:len(g.Candidates):len(g.Candidates)]
		cands = cands[len(g.Candidates):]
		for j := range g.Candidates {
			c := &g.Candidates[j]
			hs := signers[:len(c.Signers):len(c.Signers)]
			signers = signers[len(c.Signers):]
			for k, s := range c.Signers {
				hs[k] = host.Signer{Agent: s.Agent, Timestamp: s.Timestamp, Trust: s.Trust}
			}
			hc[j] = host.Candidate{Hash: c.Hash, Object: c.Object, Confidence: c.Confidence,
				Signers: hs, Up: c.Up, Down: c.Down}
		}
		out[i] = host.Group{Subject: g.Subject, Predicate: g.Predicate, Candidates: hc}
	}
	return out
}
