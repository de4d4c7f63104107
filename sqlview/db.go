package sqlview

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Defaults for the zero values of Options.
const (
	// DefaultBusyTimeout bounds how long a connection waits for a lock. With one writer
	// and WAL readers, waits are rare (a WAL restart, a checkpoint); SQLite's default of
	// zero would turn them into SQLITE_BUSY errors.
	DefaultBusyTimeout = 5 * time.Second

	// DefaultWriterCacheKiB is the writer's page cache. Ingest inserts into random-key
	// indexes (the hash index), so the interior pages of every index should stay cached.
	DefaultWriterCacheKiB = 128 << 10

	// DefaultReaderCacheKiB is each read connection's page cache.
	DefaultReaderCacheKiB = 16 << 10

	// DefaultReadConns is the size of the read pool.
	DefaultReadConns = 4

	// DefaultCheckpointInterval is how often, at most, the background checkpointer copies
	// the WAL back into the database while writes come in. Rarer checkpoints write each
	// hot page once instead of once per commit; but each checkpoint ends with an fsync
	// of everything it copied, and the write-ahead log's fsyncs on the same disk wait
	// behind it. At 1 s the write->visible bench (64 writers, ~6,000 writes/s) saw every
	// checkpoint stall writes for 45-65 ms (p99 32-46 ms); at 250 ms, p99 29-36 ms, while
	// ingest throughput did not change (50-73k asserts/s either way). See checkpoint.go.
	DefaultCheckpointInterval = 250 * time.Millisecond
)

// Options configures a DB. The zero value is valid: every zero field takes its default.
// Options are validated once, by Open.
type Options struct {
	// BusyTimeout is SQLite's busy_timeout on every connection. Defaults to
	// DefaultBusyTimeout.
	BusyTimeout time.Duration

	// WriterCacheKiB is the writer connection's cache_size in KiB. Defaults to
	// DefaultWriterCacheKiB.
	WriterCacheKiB int

	// ReaderCacheKiB is each read connection's cache_size in KiB. Defaults to
	// DefaultReaderCacheKiB.
	ReaderCacheKiB int

	// ReadConns is the number of read connections. Defaults to DefaultReadConns.
	ReadConns int

	// CheckpointInterval is the least time between two background checkpoints.
	// Defaults to DefaultCheckpointInterval. A negative value turns the background
	// checkpointer off and leaves checkpoints to SQLite's wal_autocheckpoint on the
	// writer.
	CheckpointInterval time.Duration

	// Logger receives checkpoint failures. Defaults to a logger that discards.
	Logger *slog.Logger
}

func (o *Options) fill() error {
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.WriterCacheKiB == 0 {
		o.WriterCacheKiB = DefaultWriterCacheKiB
	}
	if o.ReaderCacheKiB == 0 {
		o.ReaderCacheKiB = DefaultReaderCacheKiB
	}
	if o.ReadConns == 0 {
		o.ReadConns = DefaultReadConns
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.BusyTimeout < 0:
		return fmt.Errorf("busy timeout %v is negative", o.BusyTimeout)
	case o.WriterCacheKiB < 0 || o.ReaderCacheKiB < 0:
		return errors.New("cache size is negative")
	case o.ReadConns < 0:
		return fmt.Errorf("read conns %d is negative", o.ReadConns)
	}
	return nil
}

// walAutocheckpointPages is the writer's own wal_autocheckpoint. With the background
// checkpointer on, it is a backstop that only fires if the checkpointer falls far behind;
// with it off, it is the checkpoint policy (64 MiB of 4 KiB pages).
const (
	walAutocheckpointBackstop = 1 << 16
	walAutocheckpointAlone    = 1 << 14
	// journalSizeLimit truncates the WAL file back to this size after it is reset, so a
	// burst does not leave a huge file behind.
	journalSizeLimit = 64 << 20
)

// DB is the SQLite projection: one writer connection owned by one goroutine (see Write)
// and a pool of read-only connections (see ReadDB).
type DB struct {
	path string
	opts Options

	w  *sql.DB // one connection, used only by the writer goroutine
	r  *sql.DB // query_only connections
	ck *sql.DB // one connection for background checkpoints; nil when off

	reqs    chan *writeReq
	kick    chan struct{} // commit happened: wakes the checkpointer
	closing chan struct{}
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	rstmts readStmts // statements prepared on the read pool (see ReadTx)

	// Owned by the writer goroutine.
	stmts   map[string]*sql.Stmt
	lensIDs map[string]int64
}

// Open opens (creating if needed) the SQLite file at path, checks that it is in WAL
// mode, applies the migrations this build knows in one transaction, and starts the
// writer goroutine. A database with a newer schema than this build knows fails with
// ErrSchemaTooNew.
func Open(ctx context.Context, path string, opts Options) (_ *DB, err error) {
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("open %s: options: %w", path, err)
	}
	db := &DB{
		path:    path,
		opts:    opts,
		reqs:    make(chan *writeReq),
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		stmts:   make(map[string]*sql.Stmt),
		lensIDs: make(map[string]int64),
	}
	defer func() {
		if err != nil {
			db.closeConns()
		}
	}()

	autock := walAutocheckpointBackstop
	if opts.CheckpointInterval < 0 {
		autock = walAutocheckpointAlone
	}
	// synchronous=NORMAL: a power loss may lose the last commits but never corrupts
	// the file; the log is the source of truth and the ingested offset commits with the
	// rows, so lost commits are simply applied again.
	db.w, err = openPool(path, 1, opts.BusyTimeout, opts.WriterCacheKiB, true,
		"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(0)",
		fmt.Sprintf("wal_autocheckpoint(%d)", autock),
		fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("open %s: journal mode: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("open %s: journal mode is %q: %w", path, mode, ErrNotWAL)
	}
	if err := migrate(ctx, db.w); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Readers are opened after the writer made the file WAL (a persistent setting).
	// query_only makes every read connection refuse writes, whatever SQL it is given.
	db.r, err = openPool(path, opts.ReadConns, opts.BusyTimeout, opts.ReaderCacheKiB, false,
		"query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open %s: read pool: %w", path, err)
	}
	if opts.CheckpointInterval > 0 {
		db.ck, err = openPool(path, 1, opts.BusyTimeout, 2<<10, false)
		if err != nil {
			return nil, fmt.Errorf("open %s: checkpointer: %w", path, err)
		}
		db.wg.Add(1)
		go db.checkpointLoop()
	}
	db.wg.Add(1)
	go db.writeLoop()
	return db, nil
}

// openPool opens a database/sql pool of at most n connections to path, each set up with
// busy_timeout, cache_size and the given pragmas (name(value) form).
func openPool(path string, n int, busy time.Duration, cacheKiB int, writer bool, pragmas ...string) (*sql.DB, error) {
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(escapeURIPath(path))
	fmt.Fprintf(&b, "?_pragma=busy_timeout(%d)", busy.Milliseconds())
	fmt.Fprintf(&b, "&_pragma=cache_size(%d)", -cacheKiB)
	for _, p := range pragmas {
		b.WriteString("&_pragma=")
		b.WriteString(p)
	}
	if writer {
		// BEGIN IMMEDIATE: a write transaction takes the write lock up front instead of
		// upgrading (and possibly failing with SQLITE_BUSY) at its first write. Readers
		// keep DEFERRED: an immediate read transaction would take the write lock.
		b.WriteString("&_txlock=immediate")
	}
	pool, err := sql.Open("sqlite", b.String())
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := pool.Ping(); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// escapeURIPath escapes the characters that end or escape the path of an SQLite URI
// filename.
func escapeURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// ReadDB returns the pool of read connections. They are query_only: any statement that
// would write fails. In WAL mode they read a snapshot and never block the writer; keep
// read transactions short, since an open one holds back checkpoints.
func (db *DB) ReadDB() *sql.DB { return db.r }

// Close stops the writer after the write in progress, checkpoints the WAL into the
// database file and closes every connection. Later calls return the first call's
// result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		db.wg.Wait()
		for _, st := range db.stmts {
			st.Close()
		}
		db.rstmts.close()
		// Statistics for the planner, as SQLite advises at close, bounded so that it
		// stays quick on a big file; the package's own hot queries pin their join order
		// and do not depend on them. Then a clean shutdown leaves an empty WAL behind.
		// Failures here lose nothing.
		if _, err := db.w.Exec("PRAGMA analysis_limit = 400; PRAGMA optimize"); err != nil {
			db.opts.Logger.Warn("sqlview: optimize", "err", err)
		}
		if _, err := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			db.opts.Logger.Warn("sqlview: final checkpoint", "err", err)
		}
		db.closeErr = db.closeConns()
	})
	return db.closeErr
}

func (db *DB) closeConns() error {
	var errs []error
	for _, p := range []*sql.DB{db.r, db.ck, db.w} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}
