package readonly

import (
	"fmt"
	"reflect"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Why the deadline needs its own interrupt
//
// modernc.org/sqlite (v1.62) calls sqlite3_interrupt when a query's context ends only
// while QueryContext runs, that is, during the first sqlite3_step. Every later step,
// inside rows.Next, runs with no watcher: "SELECT 1 UNION ALL SELECT count(*) FROM
// <recursive bomb>" returns its first row at once and then computes for as long as
// the bomb lasts, context or not (measured: 8.7 s past a 200 ms deadline). The
// driver does not export its interrupt, so interrupter reads the sqlite3 handle out
// of the driver's connection and calls sqlite3_interrupt itself, which SQLite
// documents as safe from any thread while the connection is in use.
//
// Reading an unexported field ties this to the driver's layout. interrupter checks the
// type and the field, Open calls it once so that a driver upgrade that breaks it fails
// at start-up instead of silently losing the deadline, and
// TestDeadline/after_first_row fails if interrupting stops working.

// driverConnType is the type behind sql.Conn.Raw for modernc connections.
const driverConnType = "*sqlite.conn"

// interrupter returns a function that interrupts whatever statement runs on the
// connection dc (the value sql.Conn.Raw passes). The function must only be called
// while the caller holds the *sql.Conn that dc came from: after the connection is
// closed the handle dangles.
func interrupter(dc any) (func(), error) {
	if got := fmt.Sprintf("%T", dc); got != driverConnType {
		return nil, fmt.Errorf("interrupter: driver connection is %s, want %s", got, driverConnType)
	}
	f := reflect.ValueOf(dc).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Uintptr || f.Uint() == 0 {
		return nil, fmt.Errorf("interrupter: %s has no sqlite3 handle field", driverConnType)
	}
	handle := uintptr(f.Uint())
	return func() {
		// A fresh TLS, as the driver's own interrupt does: the connection's TLS belongs
		// to the goroutine stepping the statement.
		tls := libc.NewTLS()
		sqlite3.Xsqlite3_interrupt(tls, handle)
		tls.Close()
	}, nil
}
