package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/peterbourgon/ff/v3"

	"github.com/stemedb/stemedb/client"
)

// SQLCommand runs a read-only SQL statement on the server (POST /v1/sql) and prints
// the answer.
type SQLCommand struct {
	Main *Main
}

// Summary implements command.
func (c *SQLCommand) Summary() string { return "run a read-only SQL query and print the rows" }

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// sqlAnswer is the JSON answer of /v1/sql; rows stay raw so that numbers print as the
// server wrote them.
type sqlAnswer struct {
	Columns   []string           `json:"columns"`
	Rows      [][]jsontext.Value `json:"rows"`
	Truncated bool               `json:"truncated"`
	ElapsedMS float64            `json:"elapsed_ms"`
}

// Run implements command.
func (c *SQLCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stemedb sql", flag.ContinueOnError)
	fs.SetOutput(c.Main.Stderr)
	server := fs.String("server", client.DefaultServer, "the server's base URL (env STEMEDB_SERVER)")
	format := fs.String("format", "table", "table, csv, json or ndjson")
	maxRows := fs.Int("max-rows", 0, "row cap for this statement (default: the server's, 1000)")
	var params, named listFlag
	fs.Var(&params, "param", "a value for the next ? placeholder (repeatable); JSON scalars (42, 1.5, true, null, \"42\") keep their type, anything else is a string")
	fs.Var(&named, "named", "NAME=VALUE for a :NAME placeholder (repeatable); VALUE as for --param")
	fs.Usage = usage(c.Main, fs, `Usage: stemedb sql [flags] "SELECT ..."

Runs one read-only statement with POST /v1/sql and prints the rows as an aligned table
(or CSV, or the server's JSON). The statement may also come on standard input ("-" or no
argument). docs/SQL.md lists the queryable views and example queries.

Example:
  stemedb sql "SELECT lens, count(*) FROM resolved GROUP BY lens"
  stemedb sql --param Tesla_Inc "SELECT predicate, object_value FROM resolved_consensus WHERE subject = ?"
  stemedb sql --format csv "SELECT * FROM votes" > votes.csv
`)
	var rest []string
	for {
		if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("STEMEDB")); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		// Flags may follow the statement: stemedb sql "SELECT 1" --format csv.
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	stmt, err := c.statement(rest)
	if err != nil {
		return err
	}
	body := map[string]any{"sql": stmt}
	if *maxRows != 0 {
		body["max_rows"] = *maxRows
	}
	switch {
	case len(params) > 0 && len(named) > 0:
		return errors.New("use --param or --named, not both")
	case len(params) > 0:
		vals := make([]jsontext.Value, len(params))
		for i, p := range params {
			vals[i] = paramValue(p)
		}
		body["params"] = vals
	case len(named) > 0:
		vals := map[string]jsontext.Value{}
		for _, n := range named {
			name, v, ok := strings.Cut(n, "=")
			if !ok || name == "" {
				return fmt.Errorf("--named %q: want NAME=VALUE", n)
			}
			vals[name] = paramValue(v)
		}
		body["params"] = vals
	}
	wire := *format
	switch *format {
	case "table":
		wire = "json"
	case "json", "csv", "ndjson":
	default:
		return fmt.Errorf("--format: want table, csv, json or ndjson, got %q", *format)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	var raw []byte
	if err := client.New(*server, nil).Do(ctx, http.MethodPost, "/v1/sql", url.Values{"format": {wire}},
		"application/json", data, &raw); err != nil {
		return err
	}
	switch *format {
	case "csv", "ndjson":
		_, err := c.Main.Stdout.Write(raw)
		return err
	case "json":
		val := jsontext.Value(raw)
		if err := val.Indent(); err != nil {
			return fmt.Errorf("indent answer: %w", err)
		}
		_, err := fmt.Fprintf(c.Main.Stdout, "%s\n", val)
		return err
	}
	var ans sqlAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return printTable(c.Main.Stdout, &ans)
}

// statement is the SQL from the arguments, or from standard input.
func (c *SQLCommand) statement(args []string) (string, error) {
	switch {
	case len(args) > 1:
		return "", fmt.Errorf("one statement, quoted as one argument; got %d arguments", len(args))
	case len(args) == 1 && args[0] != "-":
		return args[0], nil
	}
	data, err := io.ReadAll(c.Main.Stdin)
	if err != nil {
		return "", fmt.Errorf("read statement from stdin: %w", err)
	}
	if strings.TrimSpace(string(data)) == "" {
		return "", errors.New("no statement: pass it as an argument or on standard input")
	}
	return string(data), nil
}

// paramValue keeps a JSON scalar as it is and makes anything else a string.
func paramValue(s string) jsontext.Value {
	v := jsontext.Value(s)
	if v.IsValid() {
		switch v.Kind() {
		case '0', '"', 't', 'f', 'n':
			return v
		}
	}
	q, _ := json.Marshal(s)
	return q
}

// printTable writes the answer as columns aligned with spaces, a rule under the
// header, and a footer with the row count, the time and whether rows were left out.
func printTable(w io.Writer, ans *sqlAnswer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	line(ans.Columns)
	rule := make([]string, len(ans.Columns))
	for i, col := range ans.Columns {
		rule[i] = strings.Repeat("-", max(3, len([]rune(col))))
	}
	line(rule)
	cells := make([]string, len(ans.Columns))
	for _, row := range ans.Rows {
		for i, v := range row {
			cells[i] = cell(v)
		}
		line(cells)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	footer := fmt.Sprintf("(%d row%s, %s ms)", len(ans.Rows), plural(len(ans.Rows)),
		strconv.FormatFloat(ans.ElapsedMS, 'f', -1, 64))
	if ans.Truncated {
		footer += " truncated: more rows exist; add LIMIT/OFFSET or raise --max-rows"
	}
	_, err := fmt.Fprintln(w, footer)
	return err
}

// cell is one value as a table shows it: strings without quotes, NULL as NULL, and
// control characters escaped so that a value stays on its line.
func cell(v jsontext.Value) string {
	switch v.Kind() {
	case 'n':
		return "NULL"
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return string(v)
		}
		return strings.NewReplacer("\\", "\\\\", "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
	}
	return string(v)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
