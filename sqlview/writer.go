package sqlview

import (
	"context"
	"database/sql"
	"fmt"
)

// writeReq is one transaction handed to the writer goroutine.
type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan writeResult
}

type writeResult struct {
	err      error
	panicked any
}

// Write runs fn in one write transaction on the writer goroutine, the only goroutine
// that writes to SQLite (ARCHITECTURE invariant 5), and commits it if fn returns nil.
// Transactions from concurrent callers run one at a time, in the order they queue.
//
// fn must use only tx for SQL, must not keep tx after it returns, and must not call Write
// (that would deadlock). If ctx ends while fn runs, its statements fail and the
// transaction rolls back; Write always waits for fn to return. A panic in fn rolls the
// transaction back and is re-raised in the caller.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	select {
	case db.reqs <- req:
	case <-db.closing:
		return fmt.Errorf("write: %w", ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("write: %w", ctx.Err())
	}
	res := <-req.done
	if res.panicked != nil {
		panic(res.panicked)
	}
	return res.err
}

// writeLoop is the writer goroutine.
func (db *DB) writeLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.closing:
			return
		case req := <-db.reqs:
			req.done <- db.runTx(req)
		}
	}
}

func (db *DB) runTx(req *writeReq) (res writeResult) {
	if err := req.ctx.Err(); err != nil {
		return writeResult{err: fmt.Errorf("write: %w", err)}
	}
	stx, err := db.w.BeginTx(req.ctx, nil)
	if err != nil {
		return writeResult{err: fmt.Errorf("write: begin: %w", err)}
	}
	tx := &Tx{db: db, tx: stx, stmts: make(map[string]*sql.Stmt)}
	committed := false
	defer func() {
		if !committed {
			stx.Rollback()
		}
		if p := recover(); p != nil {
			res = writeResult{panicked: p}
		}
		db.prepareLater(tx)
	}()
	if err := req.fn(tx); err != nil {
		return writeResult{err: err}
	}
	if err := stx.Commit(); err != nil {
		return writeResult{err: fmt.Errorf("write: commit: %w", err)}
	}
	committed = true
	for _, f := range tx.onCommit {
		f()
	}
	select {
	case db.kick <- struct{}{}:
	default:
	}
	return writeResult{}
}

// Tx is a write transaction on the writer connection, valid only inside the function
// given to Write. Its Exec and Query methods reuse prepared statements: each distinct
// query string is prepared once per DB and bound to each transaction once.
type Tx struct {
	db       *DB
	tx       *sql.Tx
	stmts    map[string]*sql.Stmt
	onCommit []func()
	lenses   map[string]int64 // lens ids first seen in this transaction

	unprepared []string // queries this transaction prepared for itself only
}

// Querier is what the read functions need: *sql.DB (the read pool), *sql.Tx, *sql.Conn
// and *Tx all satisfy it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var _ Querier = (*Tx)(nil)

// stmt returns query prepared and bound to this transaction.
func (t *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	var bound *sql.Stmt
	if st, ok := t.db.stmts[query]; ok {
		// The writer pool has one connection, on which st is already prepared, so this
		// binds without preparing again.
		bound = t.tx.StmtContext(ctx, st)
	} else {
		// The transaction holds the pool's only connection, so the DB-level statement
		// can only be prepared after it ends; until then, one for this transaction.
		var err error
		if bound, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		t.unprepared = append(t.unprepared, query)
	}
	t.stmts[query] = bound
	return bound, nil
}

// prepareLater prepares, on the idle writer connection, the statements that the
// finished transaction t used for the first time.
func (db *DB) prepareLater(t *Tx) {
	for _, q := range t.unprepared {
		if _, ok := db.stmts[q]; ok {
			continue
		}
		// A failure here only means the next transaction prepares it again.
		if st, err := db.w.Prepare(q); err == nil {
			db.stmts[q] = st
		}
	}
}

// ExecContext executes a statement that returns no rows.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a query.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a query expected to return at most one row; errors are deferred
// to Scan.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		// Let database/sql report the prepare error from Scan.
		return t.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// OnCommit registers f to run on the writer goroutine after the transaction commits,
// and never if it rolls back: the place to publish in-memory state (caches, offsets)
// that must not run ahead of what is on disk. f must not block.
func (t *Tx) OnCommit(f func()) { t.onCommit = append(t.onCommit, f) }
