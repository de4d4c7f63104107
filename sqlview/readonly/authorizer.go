package readonly

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	sqlite "modernc.org/sqlite"
)

// The authorizer is the layer that sees what SQLite actually compiled: every table
// read (also through views and CTEs), every function call, every PRAGMA (also the
// one a pragma_xxx() table-valued function runs), every write, CREATE, DROP, ATTACH
// (also the one VACUUM INTO runs) and transaction. It allows a short list and
// refuses the rest, so that whatever the guard or the read-only file mode miss, and
// whatever a future SQLite adds, is refused by default.

// pureFunctions are the SQL functions a statement may call: built-ins that compute a
// value from their arguments (random() and the clock too: they read nothing the
// caller may not see). Left out on purpose: load_extension (code loading),
// sqlite_log (writes the server's log), changes/total_changes/last_insert_rowid
// (connection state shared with other requests), sqlite_offset and
// sqlite_compileoption_* (internals), and the fts5/rtree/geopoly helpers, which only
// make sense on virtual tables that cannot exist here. The memory-hungry ones
// (randomblob, zeroblob, printf, replace, group_concat) are bounded by
// SQLITE_LIMIT_LENGTH instead, see limits.go.
var pureFunctions = setOf(
	// core scalar
	"abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "if",
	"ifnull", "iif", "instr", "length", "like", "likelihood", "likely", "lower", "ltrim",
	"max", "min", "nullif", "octet_length", "printf", "quote", "random", "randomblob",
	"replace", "round", "rtrim", "sign", "soundex", "sqlite_source_id", "sqlite_version",
	"substr", "substring", "trim", "typeof", "unhex", "unicode", "unistr",
	"unistr_quote", "unlikely", "upper", "zeroblob", "subtype",
	// date and time
	"date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff",
	"current_date", "current_time", "current_timestamp",
	// math
	"acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos",
	"cosh", "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow",
	"power", "radians", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
	// JSON (the -> and ->> operators are functions to the authorizer)
	"->", "->>", "json", "jsonb", "json_array", "jsonb_array", "json_array_length",
	"json_error_position", "json_extract", "jsonb_extract", "json_insert", "jsonb_insert",
	"json_array_insert", "jsonb_array_insert", "json_object", "jsonb_object", "json_patch",
	"jsonb_patch", "json_pretty", "json_quote", "json_remove", "jsonb_remove",
	"json_replace", "jsonb_replace", "json_set", "jsonb_set", "json_type", "json_valid",
	"json_group_array", "jsonb_group_array", "json_group_object", "jsonb_group_object",
	// aggregates and window functions
	"avg", "count", "group_concat", "string_agg", "sum", "total",
	"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag",
	"lead", "first_value", "last_value", "nth_value",
)

// tableValuedFunctions are the eponymous virtual tables a statement may read besides
// the pragma functions below: the JSON walkers. sqlite_dbpage (raw pages) and dbstat
// (page-level layout) are the ones this keeps out.
var tableValuedFunctions = setOf("json_each", "json_tree", "jsonb_each", "jsonb_tree")

// readPragmas may run, but only as pragma_xxx(...) table-valued functions inside a
// SELECT: the guard refuses PRAGMA statements, and SQLite presents the PRAGMA that
// such a function runs to the authorizer like any other. Each only describes the
// schema. tablePragmas take a table name, which must be a queryable one.
var (
	readPragmas  = setOf("table_info", "table_xinfo", "function_list", "collation_list")
	tablePragmas = setOf("table_info", "table_xinfo")
)

// policy is the authorizer's allow-list; it is built once by Open and only read
// afterwards, by every connection.
type policy struct {
	// tables are the relations a statement may name, by schema: the pinned views and
	// sqlite_schema in main, the lens views in temp.
	tables map[string]map[string]bool
	// viaView lists, for each queryable view, the tables SQLite reads on its behalf,
	// as recorded when the pool opened. SQLite names the view as the context of those
	// reads; a CTE named like the view gets the same context, so this is kept to
	// exactly what each view reads.
	viaView map[string]map[string]bool
	// hidden are the relations that exist but are not queryable: the tables and views
	// of the schema behind the queryable views, and the eponymous virtual tables
	// (sqlite_dbpage, dbstat, ...) other than the allowed table-valued functions. See
	// decideRead for why the names matter.
	hidden map[string]bool
}

// decide returns "" to allow an action, or why it is refused. st is the state of the
// statement being prepared; nil allows less (see decideRead).
func (p *policy) decide(st *authState, action sqlite.AuthorizerActionCode, arg1, arg2, db, context string) string {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRecursive:
		return ""
	case sqlite.AuthRead:
		return p.decideRead(st, strings.ToLower(arg1), arg2, strings.ToLower(db), strings.ToLower(context))
	case sqlite.AuthFunction:
		if pureFunctions[strings.ToLower(arg2)] {
			return ""
		}
		return fmt.Sprintf("function %s() is not allowed", arg2)
	case sqlite.AuthPragma:
		name, schema := strings.ToLower(arg1), strings.ToLower(db)
		if !readPragmas[name] || (schema != "" && schema != "main") {
			return fmt.Sprintf("PRAGMA %s is not allowed", arg1)
		}
		if tablePragmas[name] && !p.queryable(strings.ToLower(arg2)) {
			return fmt.Sprintf("PRAGMA %s(%s) is not allowed: %s is not a queryable table or view", arg1, arg2, arg2)
		}
		return ""
	case sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete:
		return fmt.Sprintf("writing %s is not allowed: SQL here only reads", arg1)
	case sqlite.AuthAttach, sqlite.AuthDetach:
		return "ATTACH and DETACH are not allowed (VACUUM INTO attaches too)"
	case sqlite.AuthTransaction, sqlite.AuthSavepoint:
		return "transactions are not allowed: each statement runs alone"
	}
	if what, ok := actionNames[action]; ok {
		return what + " is not allowed: SQL here only reads"
	}
	return fmt.Sprintf("operation %d is not allowed", int(action))
}

// decideRead allows reading the queryable relations, and the tables SQLite reads on
// their behalf. Column "" needs care: SQLite reports a FROM item whose columns the
// statement does not use (only its rows count, as in SELECT count(*) FROM x) as a
// read of column "" by name: with the outer view's name or none when x came from
// flattening a view, and also when x is a CTE or a subquery, which are not tables.
// Such a read is allowed unless it names a hidden relation, which it may only when
// the same statement already read that relation through a view: so "SELECT count(*)
// FROM assertions" works and "SELECT count(*) FROM claim_groups" stays refused.
func (p *policy) decideRead(st *authState, table, column, db, context string) string {
	switch {
	case db != "" && db != "main" && db != "temp":
		return fmt.Sprintf("reading from database %s is not allowed", db)
	case p.tables[db][table], db == "" && p.queryable(table):
		return ""
	case context != "" && p.viaView[context][table]:
		st.noteViaView(table)
		return ""
	case column == "" && (!p.hidden[table] || st.readViaView(table)):
		return ""
	case tableValuedFunctions[table]:
		return ""
	case strings.HasPrefix(table, "pragma_") && readPragmas[strings.TrimPrefix(table, "pragma_")]:
		return ""
	}
	return fmt.Sprintf("reading %s is not allowed: it is not part of the queryable schema", table)
}

// queryable reports whether name is a relation a statement may read, in any schema.
func (p *policy) queryable(name string) bool {
	for _, names := range p.tables {
		if names[name] {
			return true
		}
	}
	return false
}

// actionNames names the remaining actions for refusals.
var actionNames = map[sqlite.AuthorizerActionCode]string{
	sqlite.AuthCreateIndex: "CREATE INDEX", sqlite.AuthCreateTable: "CREATE TABLE",
	sqlite.AuthCreateTempIndex: "CREATE TEMP INDEX", sqlite.AuthCreateTempTable: "CREATE TEMP TABLE",
	sqlite.AuthCreateTempTrigger: "CREATE TEMP TRIGGER", sqlite.AuthCreateTempView: "CREATE TEMP VIEW",
	sqlite.AuthCreateTrigger: "CREATE TRIGGER", sqlite.AuthCreateView: "CREATE VIEW",
	sqlite.AuthCreateVTable: "CREATE VIRTUAL TABLE", sqlite.AuthDropIndex: "DROP INDEX",
	sqlite.AuthDropTable: "DROP TABLE", sqlite.AuthDropTempIndex: "DROP INDEX",
	sqlite.AuthDropTempTable: "DROP TABLE", sqlite.AuthDropTempTrigger: "DROP TRIGGER",
	sqlite.AuthDropTempView: "DROP VIEW", sqlite.AuthDropTrigger: "DROP TRIGGER",
	sqlite.AuthDropView: "DROP VIEW", sqlite.AuthDropVTable: "DROP TABLE",
	sqlite.AuthAlterTable: "ALTER TABLE", sqlite.AuthReindex: "REINDEX",
	sqlite.AuthAnalyze: "ANALYZE",
}

// authState belongs to one request's statement. It records the first refusal, because
// SQLite reports some refusals as a plain "not authorized" SQLITE_ERROR, so this
// record, not the error code, is what says a statement was forbidden; and the tables
// read through views, for decideRead. A nil *authState records nothing.
type authState struct {
	mu       sync.Mutex
	reason   string
	viaViews map[string]bool
}

func (st *authState) refuse(reason string) {
	if st == nil {
		return
	}
	st.mu.Lock()
	if st.reason == "" {
		st.reason = reason
	}
	st.mu.Unlock()
}

func (st *authState) refusal() string {
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.reason
}

func (st *authState) noteViaView(table string) {
	if st == nil {
		return
	}
	st.mu.Lock()
	if st.viaViews == nil {
		st.viaViews = map[string]bool{}
	}
	st.viaViews[table] = true
	st.mu.Unlock()
}

func (st *authState) readViaView(table string) bool {
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.viaViews[table]
}

// authorizer returns the callback that enforces p for the statements of one request,
// with st as their state (nil for the connection's default authorizer).
func (p *policy) authorizer(st *authState) sqlite.AuthorizerFn {
	return func(action sqlite.AuthorizerActionCode, arg1, arg2, db, context string) sqlite.AuthorizerReturnCode {
		if reason := p.decide(st, action, arg1, arg2, db, context); reason != "" {
			st.refuse(reason)
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	}
}

// learn fills viaView by preparing a SELECT from each queryable view on conn under
// a recording authorizer, then installs p's own authorizer on conn. It must run
// before p serves any request.
func (p *policy) learn(ctx context.Context, conn *sql.Conn) error {
	var mu sync.Mutex
	record := func(action sqlite.AuthorizerActionCode, table, _, _, view string) sqlite.AuthorizerReturnCode {
		if action == sqlite.AuthRead && view != "" {
			mu.Lock()
			v := strings.ToLower(view)
			if p.viaView[v] == nil {
				p.viaView[v] = map[string]bool{}
			}
			p.viaView[v][strings.ToLower(table)] = true
			mu.Unlock()
		}
		return sqlite.AuthorizerOK
	}
	register := func(fn sqlite.AuthorizerFn) error {
		return conn.Raw(func(dc any) error {
			reg, ok := dc.(sqlite.AuthorizerRegisterer)
			if !ok {
				return fmt.Errorf("driver connection %T has no authorizer", dc)
			}
			return reg.RegisterAuthorizer(fn)
		})
	}
	if err := register(record); err != nil {
		return err
	}
	hidden, err := hiddenRelations(ctx, conn)
	if err != nil {
		return err
	}
	for name := range hidden {
		if !p.queryable(name) && !tableValuedFunctions[name] {
			p.hidden[name] = true
		}
	}
	for schema, names := range p.tables {
		for name := range names {
			if strings.HasPrefix(name, "sqlite_") {
				continue
			}
			rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s.%s LIMIT 0", schema, quoteIdent(name)))
			if err != nil {
				return fmt.Errorf("queryable view %s.%s: %w", schema, name, err)
			}
			rows.Close()
		}
	}
	return register(p.authorizer(nil))
}

// hiddenRelations lists every relation name a statement could name: the tables and
// views of main and temp, and the virtual table modules, which are eponymous tables
// (sqlite_dbpage, dbstat, pragma_...).
func hiddenRelations(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	names := setOf("sqlite_dbpage", "dbstat", "sqlite_stmt", "sqlite_temp_schema", "sqlite_temp_master")
	rows, err := conn.QueryContext(ctx, `SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view')
		UNION SELECT name FROM temp.sqlite_schema WHERE type IN ('table', 'view')
		UNION SELECT name FROM pragma_module_list`)
	if err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("list relations: %w", err)
		}
		names[strings.ToLower(name)] = true
	}
	return names, rows.Err()
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
