package readonly

import (
	"errors"
	"fmt"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Every error a DB returns for a statement wraps exactly one of them
// (test with errors.Is), inside an *Error whose message is written for the person who
// typed the SQL: it says what was refused and never names files or internals.
var (
	// ErrForbidden: the statement would write, create or drop anything (TEMP objects
	// included), attach or vacuum a database, run a PRAGMA statement, load an
	// extension, call a function outside the allow-list or read a table outside the
	// queryable schema. API code sql_forbidden (403).
	ErrForbidden = errors.New("readonly: statement is forbidden")

	// ErrSQL: SQLite rejected the statement (syntax, unknown name, a limit such as a
	// string grown past the length limit), or the request held zero or several
	// statements, or the parameters do not fit it. API code sql_error (400).
	ErrSQL = errors.New("readonly: sql error")

	// ErrTimeout: the statement ran past its time limit and was interrupted. API code
	// sql_timeout (400).
	ErrTimeout = errors.New("readonly: statement ran past its time limit")

	// ErrBusy: every slot for ad-hoc SQL stayed taken for the whole queue wait. The
	// caller may retry. API code overloaded (429).
	ErrBusy = errors.New("readonly: too many statements running")

	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("readonly: closed")
)

// Error is a refused or failed statement: Kind is one of the sentinels above and Msg
// the human-readable reason.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is find Kind.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// classify turns an error from preparing or stepping a statement into an *Error.
// denied is what the request's authorizer refused, if anything: SQLite reports some
// refusals as a plain SQLITE_ERROR "not authorized", so the authorizer's own record is
// the reliable signal. Errors that say the database itself is unwell (I/O, corruption,
// a full disk) are returned as they are, for the caller to treat as server faults.
func classify(err error, denied string) error {
	if denied != "" {
		return errorf(ErrForbidden, "%s", denied)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		// database/sql and the driver check arguments before SQLite sees them
		// ("missing argument with index 2", "missing named argument").
		return errorf(ErrSQL, "%s", strings.TrimPrefix(err.Error(), "sql: "))
	}
	msg := sqliteMessage(se)
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_AUTH, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return errorf(ErrForbidden, "%s", msg)
	case sqlite3.SQLITE_INTERRUPT:
		// Only the deadline interrupts a statement; the caller tells a timeout from
		// the client going away by looking at the contexts.
		return errorf(ErrTimeout, "%s", msg)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERNAL,
		sqlite3.SQLITE_MISUSE:
		return fmt.Errorf("sqlite: %w", err)
	}
	return errorf(ErrSQL, "%s", msg)
}

// sqliteMessage is SQLite's own message without the driver's decoration: modernc
// writes "<errstr>: <errmsg> (<code>)", and only errmsg is about the user's SQL.
func sqliteMessage(se *sqlite.Error) string {
	msg := se.Error()
	if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i]
	}
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}
