package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// Defaults for the zero values of Options.
const (
	// DefaultMaxBatchRecords caps the records applied in one transaction. The cap only
	// matters when ingest is behind (otherwise a batch is whatever has arrived). The
	// cost of a commit is the index pages it dirties, and inserts into a random-key
	// index (the hash index) share pages more often in a bigger batch: on the ingest
	// benchmark (400k distinct assertions), 8000 applied about 30% faster than 2000.
	// 8000 single-assertion records take about 0.3 s, which bounds how long a reader
	// waits for its offset behind a backlog.
	DefaultMaxBatchRecords = 8000

	// DefaultMaxBatchAssertions caps the assertions in one transaction, for logs of
	// batch records (up to 1000 assertions each).
	DefaultMaxBatchAssertions = 8000
)

// Options configures an Ingester. The zero value is valid.
type Options struct {
	// MaxBatchRecords caps the records per transaction. Defaults to
	// DefaultMaxBatchRecords.
	MaxBatchRecords int
	// MaxBatchAssertions caps the assertions per transaction (a record is never split).
	// Defaults to DefaultMaxBatchAssertions.
	MaxBatchAssertions int
	// ReadAhead is the number of decoded records buffered ahead of the applier: decoding
	// and hashing run on their own goroutine while the writer applies the previous
	// batch. A batch takes only what is buffered, so this also bounds batches. Defaults
	// to MaxBatchRecords.
	ReadAhead int

	// OnApplied, if set, is called on the ingest goroutine after each committed batch
	// with the new ingested offset: the hook that wakes the materializer. It must not
	// block (e.g. a non-blocking send on a channel of capacity 1).
	OnApplied func(offset uint64)

	// Foreign, if set, applies a record of a kind that the assertion package does not own
	// (assertion.ErrUnknownKind: e.g. lens registry changes), inside the batch's
	// transaction and in log order. When nil such records are skipped: they belong to
	// another consumer.
	Foreign func(ctx context.Context, tx *sqlview.Tx, e Entry) error

	// Logger receives retry reports. Defaults to a logger that discards.
	Logger *slog.Logger
}

// Retry backoff for batches that fail to commit (disk full, I/O error).
const (
	minRetry = 50 * time.Millisecond
	maxRetry = 5 * time.Second
)

// Ingester tails the log into the base tables. Run does the work; the other methods are
// safe for concurrent use.
type Ingester struct {
	db   *sqlview.DB
	log  Log
	opts Options

	mu      sync.Mutex
	applied uint64
	changed chan struct{} // closed and replaced whenever applied or fatal changes
	fatal   error         // why Run stopped for good
	lastErr error         // the latest failed commit, while retrying
}

// New returns an Ingester that applies log to db. Call Run to start it.
func New(db *sqlview.DB, log Log, opts Options) *Ingester {
	if opts.MaxBatchRecords <= 0 {
		opts.MaxBatchRecords = DefaultMaxBatchRecords
	}
	if opts.MaxBatchAssertions <= 0 {
		opts.MaxBatchAssertions = DefaultMaxBatchAssertions
	}
	if opts.ReadAhead <= 0 {
		opts.ReadAhead = opts.MaxBatchRecords
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Ingester{db: db, log: log, opts: opts, changed: make(chan struct{})}
}

// Applied returns the ingested offset: every record below it is in the base tables.
func (in *Ingester) Applied() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.applied
}

// Err returns why ingest stopped (a record that does not decode, a log that cannot be
// read), or, while it keeps retrying a batch that fails to commit, that failure. nil
// when all is well. Status reports it.
func (in *Ingester) Err() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fatal != nil {
		return in.fatal
	}
	return in.lastErr
}

// WaitApplied blocks until the ingested offset reaches offset, ctx ends (its error is
// returned) or ingest stops for good (that error is returned). It does not poll: it
// wakes on each commit.
func (in *Ingester) WaitApplied(ctx context.Context, offset uint64) error {
	for {
		in.mu.Lock()
		applied, ch, fatal := in.applied, in.changed, in.fatal
		in.mu.Unlock()
		if applied >= offset {
			return nil
		}
		if fatal != nil {
			return fatal
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for offset %d: %w", offset, ctx.Err())
		}
	}
}

// publish updates the shared state and wakes the waiters.
func (in *Ingester) publish(f func()) {
	in.mu.Lock()
	f()
	close(in.changed)
	in.changed = make(chan struct{})
	in.mu.Unlock()
}

// item is one record read and decoded ahead of the applier.
type item struct {
	e       Entry
	rec     assertion.Record
	hashes  []assertion.Hash
	foreign bool  // a kind the assertion package does not own
	err     error // the log could not be read or the record not decoded: stop here
}

// Run tails the log from the ingested offset stored in SQLite and applies records
// until ctx ends (then it returns nil) or ingest cannot go on: a record that does not
// decode, or a log that cannot be read. That error names the record's offset, and Err
// and WaitApplied report it too. Records before it are applied. A batch that fails to
// commit is retried with backoff rather than skipped. Run must not be called twice.
func (in *Ingester) Run(ctx context.Context) error {
	err := in.run(ctx)
	if err != nil && ctx.Err() != nil {
		return nil // shutting down: whatever failed, failed because of it
	}
	if err != nil {
		in.publish(func() { in.fatal = err })
	}
	return err
}

func (in *Ingester) run(ctx context.Context) error {
	st, err := in.db.State(ctx)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	in.publish(func() { in.applied = st.IngestedOffset })
	applier, err := sqlview.NewApplier(ctx, in.db)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	tail, err := in.log.Tail(st.IngestedOffset)
	if err != nil {
		return fmt.Errorf("ingest: from offset %d: %w", st.IngestedOffset, err)
	}
	defer tail.Close()

	rctx, stop := context.WithCancel(ctx)
	items := make(chan item, in.opts.ReadAhead)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		readAhead(rctx, tail, items)
	}()
	defer func() {
		stop()
		wg.Wait()
	}()

	batch := make([]item, 0, in.opts.MaxBatchRecords)
	for {
		batch = batch[:0]
		var first item
		select {
		case first = <-items:
		case <-ctx.Done():
			return ctx.Err()
		}
		var stopErr error
		if first.err != nil {
			stopErr = first.err
		} else {
			batch = append(batch, first)
			stopErr = in.fill(&batch, items)
		}
		if len(batch) > 0 {
			if err := in.commit(ctx, applier, batch); err != nil {
				return err
			}
		}
		if stopErr != nil {
			return stopErr
		}
	}
}

// fill drains the records already waiting into batch, up to the caps. It returns the
// error of a record it met (which is not added).
func (in *Ingester) fill(batch *[]item, items <-chan item) error {
	asserts := len((*batch)[0].rec.Assertions)
	for len(*batch) < in.opts.MaxBatchRecords && asserts < in.opts.MaxBatchAssertions {
		select {
		case it := <-items:
			if it.err != nil {
				return it.err
			}
			*batch = append(*batch, it)
			asserts += len(it.rec.Assertions)
		default:
			return nil
		}
	}
	return nil
}

// commit applies batch in one transaction, retrying with backoff until it commits or
// ctx ends.
func (in *Ingester) commit(ctx context.Context, applier *sqlview.Applier, batch []item) error {
	wait := minRetry
	for {
		err := in.apply(ctx, applier, batch)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, sqlview.ErrClosed) {
			return fmt.Errorf("ingest: %w", err)
		}
		in.opts.Logger.Error("ingest: batch failed, retrying", "from", batch[0].e.Offset,
			"to", batch[len(batch)-1].e.End, "err", err, "retry_in", wait)
		in.publish(func() { in.lastErr = err })
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxRetry)
	}
	end := batch[len(batch)-1].e.End
	in.publish(func() { in.applied, in.lastErr = end, nil })
	if in.opts.OnApplied != nil {
		in.opts.OnApplied(end)
	}
	return nil
}

func (in *Ingester) apply(ctx context.Context, applier *sqlview.Applier, batch []item) error {
	since := in.Applied()
	// A batch is not interrupted: it is short (bounded by the caps), and given a context
	// that can end, the driver starts a watcher for every statement (two to four per
	// assertion). Run checks ctx between batches.
	ctx = context.WithoutCancel(ctx)
	return in.db.Write(ctx, func(tx *sqlview.Tx) error {
		b := applier.Begin(tx, since)
		for i := range batch {
			it := &batch[i]
			if it.foreign {
				if in.opts.Foreign == nil {
					continue
				}
				if err := in.opts.Foreign(ctx, tx, it.e); err != nil {
					return fmt.Errorf("ingest: record at offset %d: %w", it.e.Offset, err)
				}
				continue
			}
			if err := b.Apply(ctx, it.e.End, &it.rec, it.hashes); err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
		}
		_, err := b.Finish(ctx, batch[len(batch)-1].e.End)
		return err
	})
}

// readAhead reads, decodes and hashes records into items until ctx ends or a record
// fails, which it sends as the last item.
func readAhead(ctx context.Context, tail Tail, items chan<- item) {
	for {
		e, err := tail.Next(ctx)
		var it item
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			it.err = fmt.Errorf("ingest: read log: %w", err)
		} else {
			it = decode(e)
		}
		select {
		case items <- it:
		case <-ctx.Done():
			return
		}
		if it.err != nil {
			return
		}
	}
}

// ErrDecode marks a log record that ingest cannot decode. Ingest stops there rather
// than skip it: the log is the source of truth, and skipping would silently drop acts.
var ErrDecode = errors.New("ingest: record does not decode")

func decode(e Entry) item {
	rec, err := assertion.DecodeRecord(e.Payload)
	if errors.Is(err, assertion.ErrUnknownKind) {
		return item{e: e, foreign: true}
	}
	if err != nil {
		return item{e: e, err: fmt.Errorf("%w: offset %d (end %d): %w", ErrDecode, e.Offset, e.End, err)}
	}
	it := item{e: e, rec: rec}
	if rec.Kind == assertion.KindAssert {
		it.hashes = make([]assertion.Hash, len(rec.Assertions))
		for i := range rec.Assertions {
			it.hashes[i] = rec.Assertions[i].Claim.Hash()
		}
	}
	return it
}
