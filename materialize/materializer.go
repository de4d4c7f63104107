package materialize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/sqlview"
)

// Defaults for the zero values of Options.
const (
	// DefaultChunkSize is the number of groups per chunk: per Resolve call of each lens
	// and per write transaction. Large enough that a transaction's fixed cost and a lens
	// call's start-up vanish; small enough that one transaction holds the writer (which
	// ingest shares) for tens of milliseconds, not seconds.
	DefaultChunkSize = 512

	// DefaultRetryMin is the first wait before a group that a lens failed on is tried
	// again; each further failure doubles it, up to DefaultRetryMax.
	DefaultRetryMin = time.Second

	// DefaultRetryMax caps the wait between retries of a failing group, and between
	// retries after a storage error.
	DefaultRetryMax = time.Minute
)

// Sentinel errors.
var (
	// ErrRunning is returned by Run when another Run of the same Materializer is active.
	ErrRunning = errors.New("materialize: already running")

	// ErrUnknownLens is returned by Backfill and RemoveLens for a name not in the lens set.
	ErrUnknownLens = errors.New("materialize: lens is not materialized")
)

// Options configures a Materializer. The zero value is valid: every zero field takes its
// default. Options are validated once, by New.
type Options struct {
	// ChunkSize is the number of groups per chunk. Defaults to DefaultChunkSize.
	ChunkSize int
	// RetryMin and RetryMax bound the backoff of failed groups and storage errors.
	// Default to DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration
	// Logger receives lens failures and storage errors. Defaults to a logger that
	// discards.
	Logger *slog.Logger
	// OnLensOutcome, if set, is told once per lens per chunk how the lens did: nil when
	// it resolved every group, else the last error of the groups it failed on. It is the
	// outcome of the chunk, not of each call, because a failed call is split and retried
	// in halves: counting those calls would make a lens's failure count depend on where
	// its one bad group sits. It must not block.
	OnLensOutcome func(lens string, err error)
}

func (o *Options) fill() error {
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.RetryMin == 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.ChunkSize < 0:
		return fmt.Errorf("chunk size %d is negative", o.ChunkSize)
	case o.RetryMin < 0 || o.RetryMax < o.RetryMin:
		return fmt.Errorf("retry backoff %v..%v is not a range", o.RetryMin, o.RetryMax)
	}
	return nil
}

// Materializer keeps `resolved` up to date for a set of lenses. Start Run in one
// goroutine, call Notify whenever ingest marked groups dirty, and WaitMaterialized to
// wait for an offset. Every method is safe for concurrent use. Stop Run (cancel its
// context) before closing the database.
type Materializer struct {
	db   *sqlview.DB
	opts Options
	wake chan struct{} // 1-buffered: Notify's coalesced wake-ups

	// work serializes units of work: one chunk's read, lens calls and commit. Run and
	// Backfill both take it per chunk, so that a read always follows the previous
	// commit and an older read never overwrites a newer one's rows.
	work sync.Mutex

	running atomic.Bool

	mu       sync.Mutex
	lenses   map[string]host.Resolver
	lensGen  uint64        // bumped by every change of the lens set
	offset   uint64        // the materialized offset, as committed
	advanced chan struct{} // closed and replaced whenever offset grows
	stats    Stats
	jobs     map[string]*backfillJob // running backfills, by lens
	resume   map[string]int64        // persisted backfill cursors with no job running
	resumeCh chan struct{}           // 1-buffered: the set changed, resume backfills

	// waiting counts the goroutines waiting for work, so that a walk holding it lets
	// them in between two chunks (see walk).
	waiting atomic.Int32
	// sequential turns the walks' pipeline off (tests and benchmarks compare).
	sequential bool

	retries *retries // groups held back by a lens failure
}

// New returns a Materializer for db with no lenses (see SetLenses). It reads the
// materialized offset and the cursors of interrupted backfills, which Run resumes for
// the lenses in the set.
func New(ctx context.Context, db *sqlview.DB, opts Options) (*Materializer, error) {
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("new materializer: options: %w", err)
	}
	st, err := db.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("new materializer: %w", err)
	}
	cursors, err := sqlview.BackfillCursors(ctx, db.ReadDB())
	if err != nil {
		return nil, fmt.Errorf("new materializer: %w", err)
	}
	m := &Materializer{
		db:       db,
		opts:     opts,
		wake:     make(chan struct{}, 1),
		lenses:   make(map[string]host.Resolver),
		offset:   st.MaterializedOffset,
		advanced: make(chan struct{}),
		jobs:     make(map[string]*backfillJob),
		resume:   cursors,
		resumeCh: make(chan struct{}, 1),
		retries:  newRetries(opts.RetryMin, opts.RetryMax),
	}
	m.stats.Lenses = make(map[string]LensStats)
	m.stats.Backfills = make(map[string]BackfillStats)
	return m, nil
}

// Notify wakes Run: call it after a transaction marked groups dirty or moved the
// ingested offset. It never blocks; wakes that come while Run is busy coalesce into one.
func (m *Materializer) Notify() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run materializes dirty groups until ctx ends, sleeping between wakes (Notify, a
// failed group's retry time, a change of the lens set). It starts with one pass, so
// work left by a previous process is done without waiting for a Notify, and resumes the
// interrupted backfills of lenses in the set. With an empty lens set it leaves the
// dirty marks alone: call SetLenses first (or soon after). It returns ctx's error, or
// sqlview.ErrClosed if the database closes under it; other storage errors are logged,
// counted in Stats and retried with backoff.
func (m *Materializer) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.running.Store(false)

	var bg sync.WaitGroup
	defer bg.Wait()
	bgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.resumeBackfills(bgCtx, &bg)

	backoff := time.Duration(0)
	for {
		retryAt, err := m.drain(ctx)
		var timer *time.Timer
		switch {
		case err == nil:
			backoff = 0
			if !retryAt.IsZero() {
				timer = time.NewTimer(time.Until(retryAt))
			}
		case ctx.Err() != nil:
			return fmt.Errorf("materialize: %w", ctx.Err())
		case errors.Is(err, sqlview.ErrClosed):
			return fmt.Errorf("materialize: %w", err)
		default:
			backoff = min(max(2*backoff, m.opts.RetryMin/4), m.opts.RetryMax)
			m.opts.Logger.Warn("materialize: storage error; retrying", "err", err, "in", backoff)
			m.mu.Lock()
			m.stats.Errors++
			m.stats.LastError = err.Error()
			m.mu.Unlock()
			timer = time.NewTimer(backoff)
		}
		var fire <-chan time.Time
		if timer != nil {
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return fmt.Errorf("materialize: %w", ctx.Err())
		case <-m.wake:
		case <-fire:
		case <-m.resumeCh:
			m.resumeBackfills(bgCtx, &bg)
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// drain walks the dirty groups in passes until a pass finds nothing it may do, then
// makes sure the materialized offset is recorded. It returns the earliest time a
// held-back group may be retried (zero if none).
func (m *Materializer) drain(ctx context.Context) (time.Time, error) {
	for {
		done, retryAt, err := m.pass(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if done == 0 {
			return retryAt, m.advance(ctx)
		}
	}
}

// advance records the materialized offset when the dirty set is clean through a newer
// offset than the one recorded: after records that changed no group (a repeated write,
// an early vote), or when the last pass ended on held-back groups only.
func (m *Materializer) advance(ctx context.Context) error {
	m.lockWork()
	defer m.work.Unlock()
	ct, err := sqlview.CleanThrough(ctx, m.db.ReadDB())
	if err != nil {
		return fmt.Errorf("advance: %w", err)
	}
	if ct <= m.MaterializedOffset() {
		return nil
	}
	var off uint64
	err = m.db.Write(ctx, func(tx *sqlview.Tx) (err error) {
		off, err = m.recordOffset(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("advance: %w", err)
	}
	m.publish(off)
	return nil
}

// recordOffset sets the materialized offset to CleanThrough inside tx, if that is
// newer, and returns it (0 if not newer). The caller publishes it once tx committed,
// after its own counters, so that a waiter released by the offset sees them.
func (m *Materializer) recordOffset(ctx context.Context, tx *sqlview.Tx) (uint64, error) {
	ct, err := sqlview.CleanThrough(ctx, tx)
	if err != nil {
		return 0, err
	}
	if ct <= m.MaterializedOffset() {
		return 0, nil
	}
	if err := sqlview.SetMaterializedOffset(ctx, tx, ct); err != nil {
		return 0, err
	}
	return ct, nil
}
