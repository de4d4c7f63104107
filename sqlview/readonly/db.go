package readonly

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
)

// Defaults for the zero fields of Options.
const (
	// DefaultTimeout is each statement's time limit (API.md §6).
	DefaultTimeout = time.Second
	// DefaultMaxRows is how many rows an answer holds unless the request asks for
	// fewer or more (API.md §6).
	DefaultMaxRows = 1000
	// DefaultHardMaxRows is the most rows any request may ask for.
	DefaultHardMaxRows = 100_000
	// DefaultMaxBytes bounds the approximate encoded size of one answer's rows.
	DefaultMaxBytes = 32 << 20
	// DefaultQueueWait is how long a request waits for a free slot before it is
	// refused with ErrBusy.
	DefaultQueueWait = time.Second
	// DefaultCacheKiB is each connection's page cache.
	DefaultCacheKiB = 8 << 10
	// busyTimeout: WAL readers wait for a lock only around WAL restarts; the deadline
	// bounds the wait anyway.
	busyTimeout = time.Second
)

// DefaultLenses returns the built-in lenses' names, the default of Options.Lenses.
func DefaultLenses() []string {
	return []string{"Latest", "HighestConfidence", "Consensus", "VoteAwareConsensus", "TrustWeighted", "All"}
}

// PinnedViews returns the queryable views of API.md §6, which sqlview's migrations
// create.
func PinnedViews() []string {
	return []string{"assertions", "signatures", "votes", "agents", "resolved"}
}

// Options configures a DB. The zero value is valid; Open validates it once.
type Options struct {
	// Timeout is each statement's time limit. Defaults to DefaultTimeout.
	Timeout time.Duration
	// MaxRows is the row cap of a request that does not set its own. Defaults to
	// DefaultMaxRows.
	MaxRows int
	// HardMaxRows is the most rows a request may ask for. Defaults to
	// DefaultHardMaxRows, or MaxRows when that is larger.
	HardMaxRows int
	// MaxBytes caps the approximate encoded size of a result's rows; a result that
	// would grow past it is cut short and marked truncated. Defaults to
	// DefaultMaxBytes.
	MaxBytes int
	// Concurrency is how many statements run at once, which is also the number of
	// connections. Defaults to GOMAXPROCS/2 (at least 1), so that ad-hoc SQL can
	// never take every core from ingest, the materializer and the query API.
	Concurrency int
	// QueueWait is how long a request waits for a free slot. Defaults to
	// DefaultQueueWait.
	QueueWait time.Duration
	// Lenses are the lens names that get a resolved_<snake_case name> view. Defaults
	// to DefaultLenses(). Other lenses are read through resolved WHERE lens = '...'.
	Lenses []string
	// CacheKiB is each connection's page cache. Defaults to DefaultCacheKiB.
	CacheKiB int
	// Logger receives nothing for refused statements (they are the client's
	// business) and an error for database faults. Defaults to a logger that discards.
	Logger *slog.Logger
}

func (o *Options) fill() error {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRows == 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.HardMaxRows == 0 {
		o.HardMaxRows = max(DefaultHardMaxRows, o.MaxRows)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Concurrency == 0 {
		o.Concurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if o.QueueWait == 0 {
		o.QueueWait = DefaultQueueWait
	}
	if o.Lenses == nil {
		o.Lenses = DefaultLenses()
	}
	if o.CacheKiB == 0 {
		o.CacheKiB = DefaultCacheKiB
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("timeout %v is negative", o.Timeout)
	case o.MaxRows < 0 || o.HardMaxRows < o.MaxRows:
		return fmt.Errorf("max rows %d must be in 1..hard max rows %d", o.MaxRows, o.HardMaxRows)
	case o.MaxBytes < 0, o.Concurrency < 0, o.QueueWait < 0, o.CacheKiB < 0:
		return errors.New("max bytes, concurrency, queue wait and cache must not be negative")
	}
	views := map[string]string{}
	for _, l := range o.Lenses {
		v := lensView(l)
		if v == "" {
			return fmt.Errorf("lens name %q cannot name a view", l)
		}
		if other, ok := views[v]; ok {
			return fmt.Errorf("lenses %q and %q would both be view %s", other, l, v)
		}
		views[v] = l
	}
	return nil
}

// DB runs ad-hoc read-only SQL against a StemeDB database file on its own pool of
// guarded connections. It is safe for concurrent use.
type DB struct {
	opts   Options
	pool   *sql.DB
	policy *policy
	slots  chan struct{} // one token per running statement

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

// Open opens the read-only pool on the SQLite file at path, which sqlview.Open must
// already have created, migrated and put in WAL mode (a read-only connection can do
// none of that). It fails if the file is missing rather than creating it.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("open read-only sql: options: %w", err)
	}
	db := &DB{
		opts:   opts,
		policy: newPolicy(opts.Lenses),
		slots:  make(chan struct{}, opts.Concurrency),
		closed: make(chan struct{}),
	}
	drv := &sqlite.Driver{} // private: its hook must not reach other pools
	drv.RegisterConnectionHook(db.setupConn)
	db.pool = sql.OpenDB(connector{drv: drv, dsn: dsn(path, opts.CacheKiB)})
	db.pool.SetMaxOpenConns(opts.Concurrency)
	db.pool.SetMaxIdleConns(opts.Concurrency)
	db.pool.SetConnMaxLifetime(0)
	db.pool.SetConnMaxIdleTime(0)
	if err := db.learnViews(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("open read-only sql %s: %w", path, err)
	}
	return db, nil
}

// dsn is a file: URI, because modernc passes SQLite's own parameters (mode=ro) on only
// in that form: on a plain path "?mode=ro" is silently dropped and the file opens
// read-write. query_only is set by setupConn, after it creates the lens views.
func dsn(path string, cacheKiB int) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return fmt.Sprintf("file:%s?mode=ro&_pragma=busy_timeout(%d)&_pragma=cache_size(%d)&_pragma=trusted_schema(0)",
		esc, busyTimeout.Milliseconds(), -cacheKiB)
}

// connector opens connections through a private Driver, without sql.Register (which
// is process-global).
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// setupConn runs once on every new connection, before any request can use it: it
// creates the lens views in the connection's TEMP schema (the only place a read-only
// connection can create anything), makes the connection query_only, and installs the
// authorizer, after which nothing can create, drop or change anything again.
func (db *DB) setupConn(conn sqlite.ExecQuerierContext, _ string) error {
	ctx := context.Background()
	for _, l := range db.opts.Lenses {
		if _, err := conn.ExecContext(ctx, lensViewSQL(l), nil); err != nil {
			return fmt.Errorf("create view for lens %s: %w", l, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 1", nil); err != nil {
		return fmt.Errorf("query_only: %w", err)
	}
	reg, ok := conn.(sqlite.AuthorizerRegisterer)
	if !ok {
		return errors.New("driver connection has no authorizer")
	}
	return reg.RegisterAuthorizer(db.policy.authorizer(nil))
}

// learnViews records which tables SQLite reads on behalf of each queryable view (see
// policy.viaView), and checks on the way that the interrupter works with this driver.
func (db *DB) learnViews(ctx context.Context) error {
	conn, err := db.pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		_, err := interrupter(dc)
		return err
	}); err != nil {
		return err
	}
	return db.policy.learn(ctx, conn)
}

// newPolicy is the allow-list for the pinned views, the lens views and sqlite_schema
// (reading the schema's text shows nothing that docs/SQL.md does not).
func newPolicy(lenses []string) *policy {
	p := &policy{
		tables: map[string]map[string]bool{
			"main": setOf(append([]string{"sqlite_schema", "sqlite_master"}, PinnedViews()...)...),
			"temp": {},
		},
		viaView: map[string]map[string]bool{},
		hidden:  map[string]bool{},
	}
	for _, l := range lenses {
		p.tables["temp"][lensView(l)] = true
	}
	return p
}

// Close waits for running statements and closes the pool. Later calls return the
// first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closed)
		db.closeErr = db.pool.Close()
	})
	return db.closeErr
}
