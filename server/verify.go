package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/wal"
)

// verifyAssertions checks every signature of a single request on the request's goroutine:
// concurrent requests already spread over the cores, and a handoff would only add latency.
func (s *Server) verifyAssertions(ctx context.Context, as []assertion.Assertion) error {
	for i := range as {
		if err := as[i].VerifySignatures(); err != nil {
			return api.FromDomain(err)
		}
	}
	return ctx.Err()
}

// verifyEach verifies a batch's assertions on up to cfg.Verifiers goroutines, since Ed25519
// verification, not the disk, bounds the write path. Each signature is verified once.
// The result has one entry per assertion, nil where all its signatures hold; the error is
// the request's own cancellation, which is no fault of any item.
func (s *Server) verifyEach(ctx context.Context, as []assertion.Assertion) ([]error, error) {
	errs := make([]error, len(as))
	workers := min(s.cfg.Verifiers, len(as))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(as) {
					return
				}
				errs[i] = as[i].VerifySignatures()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return errs, nil
}

// appendRecord appends one payload and returns once it is durable. The log itself bounds
// the wait for room in its queue (wal.Options.QueueWait), so overload turns into a 429
// quickly; the wait for the fsync is bounded only by the request, because a write that
// is stored must not be answered as refused.
func (s *Server) appendRecord(ctx context.Context, payload []byte) (wal.Position, error) {
	return s.cfg.Log.Append(ctx, payload)
}
