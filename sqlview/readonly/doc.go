// Package readonly runs ad-hoc SQL from clients (POST/GET /v1/sql, API.md §6) against
// StemeDB's SQLite projection, read-only and bounded, on a pool of its own that never
// touches sqlview's writer or read pool.
//
// # Why several layers
//
// No single SQLite mode makes a read-only endpoint. Measured on this driver: a
// connection opened with mode=ro still lets ATTACH create and write a new file,
// VACUUM INTO copy the whole database anywhere, and CREATE TEMP VIEW assertions shadow
// the real view for the next request that gets the same pooled connection; PRAGMA
// query_only=0 undoes query_only; the driver runs every statement of "SELECT 1;
// DELETE ..."; and "SELECT randomblob(2e9)" allocates 2 GB. So each layer below stops
// a class of attack on its own, and each is tested on its own, so that a gap in one
// is not a hole:
//
//  1. Read-only connections (db.go). A pool of its own, opened as a file: URI with
//     mode=ro (on a plain path the driver drops mode=ro and opens read-write), so
//     SQLite refuses any write to the database file with SQLITE_READONLY whatever
//     the SQL; query_only=1 on top. Never the writer, never sqlview's pool: a request
//     cannot leave state (TEMP objects, pragmas) where other code will find it.
//  2. An allow-list authorizer (authorizer.go), installed by a connection hook before
//     a connection can serve anything and replaced per request by one with the same
//     policy that records why it refused. It sees what SQLite compiled: reads only of
//     the queryable views (and of the tables SQLite reads on their behalf), SELECT,
//     recursive CTEs, an allow-list of pure functions, JSON table-valued functions and
//     the pragma_table_info()-style functions; everything else is refused, including
//     writes, CREATE/DROP (TEMP too), ATTACH (which VACUUM INTO needs), PRAGMA,
//     transactions, sqlite_dbpage, dbstat, load_extension and internal tables.
//  3. One statement per request (guard.go, tokenize.go). A port of SQLite's tokenizer
//     finds statement boundaries exactly as SQLite does, so a ';' inside a string,
//     a quoted identifier, a comment or a $name(...) parameter is not one; anything
//     but a single SELECT/WITH/VALUES/EXPLAIN statement is refused, and only that
//     statement's text, cut out of the request, is prepared.
//  4. Per-connection limits (limits.go): sqlite3_limit bounds the size of any string
//     or blob (16 MiB: memory bombs fail fast), the SQL text, expression depth,
//     compound SELECTs, program size, LIKE patterns, parameters, and sets ATTACHED to
//     0 and worker threads to 0.
//  5. Bounded time and output (query.go): a deadline per statement (default 1 s) that
//     interrupts SQLite at any step (interrupt.go explains why the driver's own
//     cancellation is not enough), a row cap (default 1000, up to a hard maximum)
//     with truncated set only when more rows existed, a cap on the answer's bytes,
//     and a semaphore that bounds how many statements run at once (GOMAXPROCS/2 by
//     default), so ad-hoc SQL cannot starve ingest, the materializer or the query API.
//     WAL readers never block the writer, and the deadline bounds how long a reader
//     can hold back checkpoints.
//
// # What is queryable
//
// The views of API.md §6 (assertions, signatures, votes, agents, resolved), one
// resolved_<lens> view per configured lens (lensviews.go), sqlite_schema, json_each
// and json_tree, and pragma_table_info/table_xinfo/function_list/collation_list. The
// internal tables behind the views (claim_groups, assertion_rows, ...) and the
// bookkeeping tables (dirty_groups, pending_acts, state) are not: their shape may
// change between versions. docs/SQL.md documents the queryable schema for analysts.
//
// # Errors
//
// Refusals are *Error values wrapping ErrForbidden (sql_forbidden), ErrSQL (sql_error),
// ErrTimeout (sql_timeout) or ErrBusy (overloaded); see errors.go.
package readonly
