package readonly

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	sqlite "modernc.org/sqlite"
)

// Request is one ad-hoc statement and its parameters.
type Request struct {
	// SQL is exactly one statement; see Check.
	SQL string
	// Args bind positional parameters: ?, ?NNN.
	Args []any
	// Named binds :name, @name and $name parameters; a key may be given with or
	// without its prefix.
	Named map[string]any
	// MaxRows caps the rows returned; 0 means Options.MaxRows. More than
	// Options.HardMaxRows is refused.
	MaxRows int
}

// Parameter values are int64, float64, string, []byte, bool (bound as 1 or 0) or nil.

// Sink receives a result as it is read. Row values are int64 (INTEGER), float64
// (REAL), string (TEXT), []byte (BLOB) or nil (NULL); the caller may keep them, but
// not the slice, which is reused.
type Sink interface {
	Columns(names []string) error
	Row(values []any) error
}

// Summary describes a finished result.
type Summary struct {
	Rows int
	// Truncated is true when the statement had more rows than were delivered: the row
	// cap or the byte cap cut the result short.
	Truncated bool
	// Elapsed is the time from taking a connection to the last row.
	Elapsed time.Duration
}

// Result is a whole result, as QueryAll collects it.
type Result struct {
	Columns []string
	Rows    [][]any
	Summary
}

// QueryAll runs req and collects its result; the caps keep it bounded.
func (db *DB) QueryAll(ctx context.Context, req Request) (*Result, error) {
	var c collector
	sum, err := db.Query(ctx, req, &c)
	if err != nil {
		return nil, err
	}
	c.res.Summary = sum
	return &c.res, nil
}

type collector struct{ res Result }

func (c *collector) Columns(names []string) error { c.res.Columns = names; return nil }
func (c *collector) Row(values []any) error {
	c.res.Rows = append(c.res.Rows, slices.Clone(values))
	return nil
}

// Query runs one statement and hands its columns and rows to sink, under every layer
// of doc.go: the guard, a slot of the semaphore, a connection of the read-only pool
// with its limits and a request-scoped authorizer, the deadline, and the row and
// byte caps. Errors are *Error values wrapping ErrForbidden, ErrSQL, ErrTimeout or
// ErrBusy; the sink's own errors, ctx's error when the caller gave up, and database
// faults are returned as they are.
func (db *DB) Query(ctx context.Context, req Request, sink Sink) (Summary, error) {
	text, err := Check(req.SQL)
	if err != nil {
		return Summary{}, err
	}
	maxRows := req.MaxRows
	switch {
	case maxRows == 0:
		maxRows = db.opts.MaxRows
	case maxRows < 0 || maxRows > db.opts.HardMaxRows:
		return Summary{}, errorf(ErrSQL, "max rows must be in 1..%d", db.opts.HardMaxRows)
	}
	args, err := bindArgs(req)
	if err != nil {
		return Summary{}, err
	}
	release, err := db.acquire(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer release()

	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, db.opts.Timeout)
	defer cancel()
	sum, denied, err := db.run(dctx, text, args, maxRows, sink)
	sum.Elapsed = time.Since(start)
	if err == nil {
		return sum, nil
	}
	var sinkErr *sinkError
	switch {
	case ctx.Err() != nil:
		return sum, ctx.Err() // the caller went away; nobody reads the answer
	case dctx.Err() != nil:
		return sum, errorf(ErrTimeout, "statement ran past its time limit of %v", db.opts.Timeout)
	case errors.As(err, &sinkErr):
		return sum, sinkErr.err
	case db.isClosed():
		return sum, ErrClosed
	}
	cerr := classify(err, denied)
	var e *Error
	if !errors.As(cerr, &e) {
		db.opts.Logger.Error("read-only sql: database fault", "err", cerr)
	}
	return sum, cerr
}

// sinkError marks an error that the sink returned, so that it is not taken for
// SQLite's.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return "sink: " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

func (db *DB) isClosed() bool {
	select {
	case <-db.closed:
		return true
	default:
		return false
	}
}

// acquire takes a slot of the semaphore, waiting at most QueueWait.
func (db *DB) acquire(ctx context.Context) (release func(), err error) {
	if db.isClosed() {
		return nil, ErrClosed
	}
	release = func() { <-db.slots }
	select {
	case db.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(db.opts.QueueWait)
	defer t.Stop()
	select {
	case db.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errorf(ErrBusy, "%d statements are running; retry later", cap(db.slots))
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.closed:
		return nil, ErrClosed
	}
}

// run executes text on a connection of its own until the rows, the caps or ctx (the
// deadline) end. denied is the authorizer's refusal, if any.
func (db *DB) run(ctx context.Context, text string, args []any, maxRows int, sink Sink) (sum Summary, denied string, err error) {
	conn, err := db.pool.Conn(ctx)
	if err != nil {
		return sum, "", fmt.Errorf("take connection: %w", err)
	}
	defer conn.Close()

	// Replace the connection's authorizer with one that records this request's
	// refusals (same policy), and get the means to interrupt it.
	var st authState
	var interrupt func()
	if err := conn.Raw(func(dc any) error {
		var err error
		if interrupt, err = interrupter(dc); err != nil {
			return err
		}
		return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(db.policy.authorizer(&st))
	}); err != nil {
		return sum, "", fmt.Errorf("set up connection: %w", err)
	}
	if err := applyLimits(conn); err != nil {
		return sum, "", err
	}
	// Interrupt the statement when the deadline passes, at any step (see interrupt.go),
	// but never after the connection went back to the pool.
	var mu sync.Mutex
	finished := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			interrupt()
		}
	})
	defer func() {
		mu.Lock()
		finished = true
		mu.Unlock()
		stop()
	}()

	rows, err := conn.QueryContext(ctx, text, args...)
	if err != nil {
		return sum, st.refusal(), err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return sum, st.refusal(), err
	}
	if err := sink.Columns(cols); err != nil {
		return sum, "", &sinkError{err}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	budget := db.opts.MaxBytes
	for rows.Next() {
		if sum.Rows == maxRows {
			sum.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return sum, st.refusal(), err
		}
		size := 0
		for i, v := range vals {
			vals[i], size = normalize(v), size+encodedSize(v)
		}
		if budget -= size; budget < 0 {
			sum.Truncated = true
			break
		}
		if err := sink.Row(vals); err != nil {
			return sum, "", &sinkError{err}
		}
		sum.Rows++
	}
	if err := rows.Err(); err != nil {
		return sum, st.refusal(), err
	}
	return sum, st.refusal(), rows.Close()
}

// normalize keeps row values to the five SQLite storage classes. The driver turns
// TEXT into time.Time for columns declared DATE, DATETIME or TIMESTAMP; no queryable
// column is, but an answer should not depend on that.
func normalize(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// encodedSize approximates v's size in a JSON answer, for the byte cap.
func encodedSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 3
	case []byte:
		return 2*len(x) + 3
	case nil:
		return 5
	}
	return 25
}

// bindArgs turns a request's parameters into database/sql arguments.
func bindArgs(req Request) ([]any, error) {
	args := make([]any, 0, len(req.Args)+len(req.Named))
	for i, v := range req.Args {
		if !bindable(v) {
			return nil, errorf(ErrSQL, "parameter %d has unsupported type %T", i+1, v)
		}
		args = append(args, v)
	}
	names := make([]string, 0, len(req.Named))
	for name := range req.Named {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic errors
	for _, name := range names {
		v := req.Named[name]
		bare := strings.TrimLeft(name, ":@$")
		// database/sql insists that a name starts with a letter.
		if r, _ := utf8.DecodeRuneInString(bare); !unicode.IsLetter(r) || len(name)-len(bare) > 1 {
			return nil, errorf(ErrSQL, "parameter name %q must be a letter followed by letters, digits or _, optionally after one of : @ $", name)
		}
		if !bindable(v) {
			return nil, errorf(ErrSQL, "parameter %q has unsupported type %T", name, v)
		}
		args = append(args, sql.Named(bare, v))
	}
	return args, nil
}

func bindable(v any) bool {
	switch v.(type) {
	case int64, float64, string, []byte, bool, nil:
		return true
	}
	return false
}
