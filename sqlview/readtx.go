package sqlview

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// maxReadStmts bounds the statements kept prepared on the read pool. The read path uses
// a few dozen fixed query strings; the bound only stops a caller that builds ever-new
// strings from growing the cache without end (those simply run unprepared).
const maxReadStmts = 256

// prepareWait bounds how long a ReadTx's Rollback waits for a pooled connection to
// prepare the queries it ran for the first time.
const prepareWait = 100 * time.Millisecond

// readStmts is the read pool's statement cache, shared by every ReadTx of a DB.
type readStmts struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

func (c *readStmts) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepare prepares queries on pool, for the transactions to come. It must not be called
// while holding one of pool's connections: the pool is bounded, and preparing needs a
// connection of its own. A failure only means the query stays unprepared for now.
func (c *readStmts) prepare(ctx context.Context, pool *sql.DB, queries []string) {
	for _, q := range queries {
		c.mu.Lock()
		_, done := c.stmts[q]
		full := len(c.stmts) >= maxReadStmts
		closed := c.closed
		c.mu.Unlock()
		if done || full || closed {
			continue
		}
		st, err := pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.stmts[q]; dup || c.closed {
			st.Close() // another transaction prepared it first, or the DB is closing
		} else {
			if c.stmts == nil {
				c.stmts = map[string]*sql.Stmt{}
			}
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

// close closes every cached statement; later prepares are dropped.
func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// ReadTx is a read-only transaction on the read pool (one snapshot) whose statements
// are prepared once per pooled connection and then reused, as the writer's are: parsing
// the query path's SQL took about 15% of the CPU of a write->visible workload. A query
// this DB has not run before runs unprepared, and is prepared on the pool when the
// transaction ends. End it with Rollback (it only reads, so nothing is lost).
type ReadTx struct {
	db    *DB
	tx    *sql.Tx
	bound map[string]*sql.Stmt // cached statements bound to tx
	fresh []string             // queries to prepare once tx has ended
}

var _ Querier = (*ReadTx)(nil)

// BeginRead starts a read-only transaction on the read pool.
func (db *DB) BeginRead(ctx context.Context) (*ReadTx, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return &ReadTx{db: db, tx: tx}, nil
}

// stmt returns query's cached statement bound to the transaction, or nil when it is not
// cached yet (it is then noted for preparing).
func (t *ReadTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.bound[query]; ok {
		return st
	}
	shared := t.db.rstmts.get(query)
	if shared == nil {
		t.fresh = append(t.fresh, query)
		return nil
	}
	// Prepared on this connection already, or prepared on it now and kept there.
	st := t.tx.StmtContext(ctx, shared)
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[query] = st
	return st
}

// QueryContext runs a query in the transaction.
func (t *ReadTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row; errors are deferred
// to Scan.
func (t *ReadTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// Rollback ends the transaction, then prepares the queries it ran for the first time.
// Calling it again does nothing and returns sql.ErrTxDone.
func (t *ReadTx) Rollback() error {
	err := t.tx.Rollback()
	if fresh := t.fresh; len(fresh) > 0 {
		t.fresh = nil
		// Not the caller's context, which may be done already; bounded, because every
		// pooled connection may be busy (with a long ad-hoc statement, say), and a query
		// left unprepared is tried again by the next transaction that runs it.
		ctx, cancel := context.WithTimeout(context.Background(), prepareWait)
		t.db.rstmts.prepare(ctx, t.db.r, fresh)
		cancel()
	}
	return err
}
