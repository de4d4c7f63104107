package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/sqlview/readonly"
)

// The read-only SQL endpoint of API.md §6:
//
//	POST /v1/sql {"sql": "...", "params": [...] | {...}, "max_rows": N, "format": "json"}
//	GET  /v1/sql?sql=...&params=<JSON>&max_rows=N&format=json|csv|ndjson
//
// Every guard lives in package readonly; this file decodes, maps its errors to the codes
// of API.md §2 and encodes the answer. Formats:
//   - json (default): {"columns": [...], "rows": [[...]...], "truncated": false,
//     "elapsed_ms": 1.2}; value types as readonly.AppendJSON documents.
//   - csv: a header line of column names, then the rows (RFC 4180); NULL is an empty
//     field, BLOB is hex. Truncation and timing are in the X-Stemedb-Truncated and
//     X-Stemedb-Elapsed-Ms headers.
//   - ndjson: streamed, for large results (max_rows up to the hard maximum): a line
//     {"columns": [...]}, one JSON array per row, and a last line {"truncated": false,
//     "rows": N, "elapsed_ms": 1.2}, or {"error": {"code", "message"}} if the statement
//     failed after the stream began. Nothing is buffered beyond a write buffer.

// SQLRunner runs one ad-hoc read-only statement; *readonly.DB implements it.
type SQLRunner interface {
	Query(ctx context.Context, req readonly.Request, sink readonly.Sink) (readonly.Summary, error)
}

// sqlRequest is the body of POST /v1/sql.
type sqlRequest struct {
	SQL     *string        `json:"sql"`
	Params  jsontext.Value `json:"params,omitzero"`
	MaxRows int            `json:"max_rows,omitzero"`
	Format  string         `json:"format,omitzero"`
}

var sqlQueryParams = map[string]bool{"sql": true, "params": true, "max_rows": true, "format": true}

const (
	formatJSON   = "json"
	formatCSV    = "csv"
	formatNDJSON = "ndjson"
)

func (s *Server) handleSQL(w http.ResponseWriter, r *http.Request, runner SQLRunner) {
	req, format, err := s.parseSQLRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch format {
	case formatNDJSON:
		s.streamSQL(w, r, runner, req)
		return
	case formatCSV:
		sink := &csvSink{}
		sum, err := runner.Query(r.Context(), req, sink)
		if err != nil {
			s.writeError(w, r, sqlAPIError(err))
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("X-Stemedb-Truncated", strconv.FormatBool(sum.Truncated))
		w.Header().Set("X-Stemedb-Elapsed-Ms", formatMillis(sum.Elapsed))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, sink.buf.String())
		return
	}
	sink := &jsonSink{}
	sum, err := runner.Query(r.Context(), req, sink)
	if err != nil {
		s.writeError(w, r, sqlAPIError(err))
		return
	}
	out := make([]byte, 0, len(sink.rows)+len(sink.cols)+64)
	out = append(out, `{"columns":`...)
	out = append(out, sink.cols...)
	out = append(out, `,"rows":[`...)
	out = append(out, sink.rows...)
	out = append(out, `],"truncated":`...)
	out = strconv.AppendBool(out, sum.Truncated)
	out = append(out, `,"elapsed_ms":`...)
	out = append(out, formatMillis(sum.Elapsed)...)
	out = append(out, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// parseSQLRequest reads the statement, parameters, row cap and format from the body
// (POST) or the query string (GET); format may be in either for POST.
func (s *Server) parseSQLRequest(w http.ResponseWriter, r *http.Request) (readonly.Request, string, error) {
	var req readonly.Request
	q := r.URL.Query()
	for name, vals := range q {
		if !sqlQueryParams[name] || (r.Method == http.MethodPost && name != "format") {
			return req, "", api.Errorf(api.CodeInvalidRequest, "unknown query parameter %q", name)
		}
		if len(vals) != 1 {
			return req, "", api.Errorf(api.CodeInvalidRequest, "query parameter %q given %d times", name, len(vals))
		}
	}
	format := q.Get("format")
	var params jsontext.Value
	if r.Method == http.MethodPost {
		body, err := s.readBody(w, r)
		if err != nil {
			return req, "", err
		}
		var b sqlRequest
		if err := api.Decode(body, &b); err != nil {
			return req, "", err
		}
		if b.SQL == nil {
			return req, "", api.Errorf(api.CodeInvalidRequest, "sql is required")
		}
		if b.Format != "" && format != "" && b.Format != format {
			return req, "", api.Errorf(api.CodeInvalidRequest, "format given twice: %q in the body, %q in the URL", b.Format, format)
		}
		if b.Format != "" {
			format = b.Format
		}
		req.SQL, req.MaxRows, params = *b.SQL, b.MaxRows, b.Params
		if req.MaxRows < 0 {
			return req, "", api.Errorf(api.CodeInvalidRequest, "max_rows must be positive")
		}
	} else {
		if !q.Has("sql") {
			return req, "", api.Errorf(api.CodeInvalidRequest, "sql is required")
		}
		req.SQL = q.Get("sql")
		if q.Has("max_rows") {
			n, err := strconv.Atoi(q.Get("max_rows"))
			if err != nil || n < 1 {
				return req, "", api.Errorf(api.CodeInvalidRequest, "max_rows must be a positive integer")
			}
			req.MaxRows = n
		}
		if q.Has("params") {
			params = jsontext.Value(q.Get("params"))
			if !params.IsValid() {
				return req, "", api.Errorf(api.CodeInvalidRequest, "params must be a JSON array or object")
			}
		}
	}
	switch format {
	case "":
		format = formatJSON
	case formatJSON, formatCSV, formatNDJSON:
	default:
		return req, "", api.Errorf(api.CodeInvalidRequest, "format must be json, csv or ndjson, not %q", format)
	}
	var err error
	req.Args, req.Named, err = decodeSQLParams(params)
	return req, format, err
}

// decodeSQLParams turns params (absent, null, an array or an object) into bind values:
// null, booleans (bound as 1 and 0), strings, and numbers, which bind as INTEGER when
// written as an integer that fits 64 bits and as REAL otherwise.
func decodeSQLParams(params jsontext.Value) ([]any, map[string]any, error) {
	if len(params) == 0 {
		return nil, nil, nil
	}
	switch params.Kind() {
	case 'n':
		return nil, nil, nil
	case '[':
		var raw []jsontext.Value
		if err := json.Unmarshal(params, &raw); err != nil {
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "params: %v", err)
		}
		args := make([]any, len(raw))
		for i, v := range raw {
			var err error
			if args[i], err = sqlParam(v); err != nil {
				return nil, nil, api.Errorf(api.CodeInvalidRequest, "params[%d]: %v", i, err)
			}
		}
		return args, nil, nil
	case '{':
		var raw map[string]jsontext.Value
		if err := json.Unmarshal(params, &raw); err != nil {
			return nil, nil, api.Errorf(api.CodeInvalidRequest, "params: %v", err)
		}
		named := make(map[string]any, len(raw))
		for name, v := range raw {
			var err error
			if named[name], err = sqlParam(v); err != nil {
				return nil, nil, api.Errorf(api.CodeInvalidRequest, "params.%s: %v", name, err)
			}
		}
		return nil, named, nil
	}
	return nil, nil, api.Errorf(api.CodeInvalidRequest, "params must be a JSON array or object")
}

func sqlParam(v jsontext.Value) (any, error) {
	switch v.Kind() {
	case 'n':
		return nil, nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return s, nil
	case '0':
		text := string(v)
		if !strings.ContainsAny(text, ".eE") {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return n, nil
			}
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errors.New("number is out of range")
		}
		return f, nil
	}
	return nil, errors.New("a parameter is null, a boolean, a number or a string; pass JSON as a string and use json()")
}

// sqlAPIError maps package readonly's errors to the codes of API.md §2; anything else
// goes to writeError's own classification (cancellation, faults).
func sqlAPIError(err error) error {
	var e *readonly.Error
	if !errors.As(err, &e) {
		if errors.Is(err, readonly.ErrClosed) {
			return &api.Error{Code: api.CodeUnavailable, Message: "the server is shutting down", RetryAfter: 5}
		}
		return err
	}
	switch {
	case errors.Is(err, readonly.ErrForbidden):
		return api.Errorf(api.CodeSQLForbidden, "%s", e.Msg)
	case errors.Is(err, readonly.ErrTimeout):
		return api.Errorf(api.CodeSQLTimeout, "%s", e.Msg)
	case errors.Is(err, readonly.ErrBusy):
		return &api.Error{Code: api.CodeOverloaded, Message: e.Msg, RetryAfter: 1}
	}
	return api.Errorf(api.CodeSQLError, "%s", e.Msg)
}

func formatMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', -1, 64)
}

// jsonSink encodes columns and rows as they come; only the encoded bytes are kept.
type jsonSink struct {
	cols, rows []byte
	n          int
}

func (s *jsonSink) Columns(names []string) error {
	s.cols = appendJSONArray(nil, names)
	return nil
}

func (s *jsonSink) Row(values []any) error {
	if s.n > 0 {
		s.rows = append(s.rows, ',')
	}
	s.n++
	s.rows = appendJSONArray(s.rows, values)
	return nil
}

// appendJSONArray appends xs as a JSON array, each element as readonly.AppendJSON
// writes it: the column names and each row of a JSON answer.
func appendJSONArray[T any](dst []byte, xs []T) []byte {
	dst = append(dst, '[')
	for i, x := range xs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = readonly.AppendJSON(dst, x)
	}
	return append(dst, ']')
}

// csvSink writes CSV into a buffer; the answer is sent once the statement succeeded.
type csvSink struct {
	buf    strings.Builder
	w      *csv.Writer
	fields []string
	text   []byte
}

func (s *csvSink) Columns(names []string) error {
	s.w = csv.NewWriter(&s.buf)
	return s.w.Write(names)
}

func (s *csvSink) Row(values []any) error {
	s.fields = s.fields[:0]
	for _, v := range values {
		s.text = readonly.AppendText(s.text[:0], v)
		s.fields = append(s.fields, string(s.text))
	}
	if err := s.w.Write(s.fields); err != nil {
		return err
	}
	s.w.Flush()
	return s.w.Error()
}

// streamSQL answers in NDJSON as rows arrive. Until the first line is written, errors
// take the normal error path with their status; after it, the status is sent and an
// error can only end the stream as its last line.
func (s *Server) streamSQL(w http.ResponseWriter, r *http.Request, runner SQLRunner, req readonly.Request) {
	sink := &ndjsonSink{w: w}
	sum, err := runner.Query(r.Context(), req, sink)
	if !sink.started {
		if err != nil {
			s.writeError(w, r, sqlAPIError(err))
			return
		}
		sink.start() // a statement without columns cannot happen, but stay well-formed
	}
	line := sink.line[:0]
	if err != nil {
		e := s.classify(r, sqlAPIError(err))
		body, _ := json.Marshal(api.ErrorBody{Error: e})
		line = append(line, body...)
	} else {
		line = append(line, `{"truncated":`...)
		line = strconv.AppendBool(line, sum.Truncated)
		line = append(line, `,"rows":`...)
		line = strconv.AppendInt(line, int64(sum.Rows), 10)
		line = append(line, `,"elapsed_ms":`...)
		line = append(line, formatMillis(sum.Elapsed)...)
		line = append(line, '}')
	}
	line = append(line, '\n')
	_, _ = sink.bw.Write(line)
	_ = sink.bw.Flush()
}

// ndjsonSink writes each line through a buffer, flushing to the client whenever the
// buffer fills, so memory stays flat however many rows stream.
type ndjsonSink struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	line    []byte
	cols    []string
	started bool
}

func (s *ndjsonSink) start() {
	s.w.Header().Set("Content-Type", "application/x-ndjson")
	s.w.WriteHeader(http.StatusOK)
	s.bw = bufio.NewWriterSize(s.w, 32<<10)
	s.started = true
}

func (s *ndjsonSink) Columns(names []string) error {
	s.start()
	s.line = append(s.line[:0], `{"columns":`...)
	s.line = appendJSONArray(s.line, names)
	s.line = append(s.line, "}\n"...)
	_, err := s.bw.Write(s.line)
	return err
}

func (s *ndjsonSink) Row(values []any) error {
	s.line = appendJSONArray(s.line[:0], values)
	s.line = append(s.line, '\n')
	_, err := s.bw.Write(s.line)
	return err
}
