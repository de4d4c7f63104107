package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/node"
)

// resolvedRows reads lens's rows of `resolved` as "subject/predicate/hash/rank" lines.
func resolvedRows(t testing.TB, ln *lensNode, lens string) []string {
	t.Helper()
	rows, err := ln.n.Views().ReadDB().QueryContext(context.Background(),
		`SELECT subject || '/' || predicate || '/' || assertion_hash || '/' || rank FROM resolved
		 WHERE lens = ?1 ORDER BY subject, predicate, rank`, lens)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// sameAnswers checks that the lenses give the same answers, page by page, for a subject
// and for whole predicates, with a page size that splits groups.
func sameAnswers(t *testing.T, ln *lensNode, lenses ...string) {
	t.Helper()
	for _, params := range []url.Values{
		{"predicate": {"p"}}, {"predicate": {"q"}}, {"subject": {"s03"}}, {"subject": {"s03"}, "predicate": {"q"}},
	} {
		var want []string
		var wantTotal int64
		for i, lens := range lenses {
			p := url.Values{"lens": {lens}}
			for k, v := range params {
				p[k] = v
			}
			got, total := ln.queryAll(t, p, 3)
			if i == 0 {
				want, wantTotal = got, total
				require.NotEmpty(t, want, "%v", params)
				continue
			}
			require.Equal(t, wantTotal, total, "%s vs %s: %v", lens, lenses[0], params)
			require.Equal(t, want, got, "%s vs %s: %v", lens, lenses[0], params)
		}
	}
}

// waitServing waits until queries through lens read its materialized rows: its backfill
// finished. There is no event for that over HTTP, so it polls under a deadline.
func waitServing(t *testing.T, ln *lensNode, lens string) {
	t.Helper()
	require.Eventually(t, func() bool { return ln.lens(t, lens).Serving == api.ServingResolved },
		20*time.Second, 20*time.Millisecond, "lens %s never served from resolved", lens)
}

// TestLenses_Lifecycle uploads the built-in All rule as a lens twice, materialized and
// not, and checks both against the built-in: usable at once, backfilled, the same
// answers page by page (on the fly and from rows), the same rows in `resolved`;
// versions; a restart; writes after it; delete.
func TestLenses_Lifecycle(t *testing.T) {
	dir := t.TempDir()
	ln := startLensNode(t, dir, nil)
	ln.waitFor(t, ln.write(t, mixedClaims(12)))
	mirror := module(t, mirrorLens)

	fly := ln.upload(t, "MyAllFly", mirror, false)
	assert.Equal(t, api.Lens{Name: "MyAllFly", Version: 1, Hash: fly.Hash, Materialized: false, ModuleLens: "MyAllFly",
		UploadedAt: fly.UploadedAt, State: "live", Serving: api.ServingOnTheFly}, fly)
	// Usable at once.
	q, err := ln.query(context.Background(), url.Values{"subject": {"s01"}, "lens": {"myallfly"}})
	require.NoError(t, err)
	assert.Equal(t, "MyAllFly", q.Lens)
	assert.NotEmpty(t, q.Assertions)

	mat := ln.upload(t, "MyAll", mirror, true)
	assert.True(t, mat.Materialized)
	assert.Equal(t, fly.Hash, mat.Hash, "one module, stored once")
	waitServing(t, ln, "MyAll")
	l := ln.lens(t, "MyAll")
	require.NotNil(t, l.Backfill)
	assert.True(t, l.Backfill.Finished)
	assert.Equal(t, l.Backfill.Total, l.Backfill.Done)
	assert.EqualValues(t, 24, l.Backfill.Total, "every group")

	sameAnswers(t, ln, "All", "MyAll", "MyAllFly")
	want := resolvedRows(t, ln, "All")
	require.NotEmpty(t, want)
	// The rows are the built-in's, lens name aside.
	got := resolvedRows(t, ln, "MyAll")
	require.Equal(t, len(want), len(got))
	for i := range want {
		assert.Equal(t, want[i], got[i])
	}
	assert.Empty(t, resolvedRows(t, ln, "MyAllFly"), "not materialized: no rows")

	// The same name again: a new version, live at once; the history keeps the first.
	v2 := ln.upload(t, "MyAllFly", mirror, false)
	assert.Equal(t, 2, v2.Version)
	l = ln.lens(t, "MyAllFly")
	require.Len(t, l.Versions, 2)
	assert.False(t, l.Versions[0].Live)
	assert.True(t, l.Versions[1].Live)
	assert.Equal(t, l.Versions[0].Hash, l.Versions[1].Hash)

	var st api.Status
	require.NoError(t, ln.anon.Get(context.Background(), "/v1/status", nil, &st))
	var inStatus []string
	for _, s := range st.Lenses {
		inStatus = append(inStatus, s.Name)
		if s.Name == "MyAll" {
			require.NotNil(t, s.Backfill, "status shows the backfill")
			assert.True(t, s.Backfill.Finished)
		}
	}
	assert.Contains(t, inStatus, "MyAll")

	// Restart: the uploads are back, with their versions, serving as before.
	ln.stop()
	ln = startLensNode(t, dir, nil)
	var list api.LensList
	require.NoError(t, ln.anon.Get(context.Background(), "/v1/lenses", nil, &list))
	require.Len(t, list.Lenses, 8)
	assert.Equal(t, "MyAll", list.Lenses[6].Name)
	assert.Equal(t, api.ServingResolved, list.Lenses[6].Serving, "rows complete before the restart")
	assert.Equal(t, "MyAllFly", list.Lenses[7].Name)
	assert.Equal(t, 2, list.Lenses[7].Version)
	sameAnswers(t, ln, "All", "MyAll", "MyAllFly")

	// Writes after the restart reach the materialized lens through the dirty walk.
	ln.waitFor(t, ln.write(t, []claim{
		{subject: "s03", predicate: "p", value: 9, confidence: 1, agents: []int{4}},
		{subject: "s99", predicate: "p", value: 1, confidence: 0.5, agents: []int{1, 2}},
	}))
	sameAnswers(t, ln, "All", "MyAll", "MyAllFly")
	require.Equal(t, len(resolvedRows(t, ln, "All")), len(resolvedRows(t, ln, "MyAll")))

	// Delete: gone from queries and listings at once, its rows soon after.
	status, body := ln.raw(t, http.MethodDelete, "/v1/lenses/MyAll", ln.n.AdminToken(), "", nil)
	require.Equal(t, http.StatusNoContent, status, "%s", body)
	_, err = ln.query(context.Background(), url.Values{"subject": {"s01"}, "lens": {"MyAll"}})
	e, ok := api.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, api.CodeNotFound, e.Code)
	// The rows go in the background (lensSync); no event tells when.
	require.Eventually(t, func() bool { return len(resolvedRows(t, ln, "MyAll")) == 0 }, 10*time.Second, 20*time.Millisecond)

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/lenses/MyAll", http.StatusNotFound},
		{"/v1/lenses/Consensus", http.StatusConflict},
		{"/v1/lenses/consensus", http.StatusConflict},
		{"/v1/lenses/NoSuch", http.StatusNotFound},
	} {
		status, body := ln.raw(t, http.MethodDelete, tc.path, ln.n.AdminToken(), "", nil)
		assert.Equal(t, tc.want, status, "DELETE %s: %s", tc.path, body)
	}
	// Uploading a deleted name continues its history.
	again := ln.upload(t, "MyAll", mirror, false)
	assert.Equal(t, 2, again.Version)
}

// TestLenses_AdminToken checks API.md §7: a token generated into the data directory
// (mode 0600) unless one is configured, and 401 unauthorized on every admin endpoint
// without it.
func TestLenses_AdminToken(t *testing.T) {
	dir := t.TempDir()
	ln := startLensNode(t, dir, nil)
	path := filepath.Join(dir, node.AdminTokenFile)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	token := string(bytes.TrimSpace(file))
	require.Len(t, token, 64)
	require.Equal(t, token, ln.n.AdminToken())

	junk := []byte("not a module")
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/v1/lenses?name=X"},
		{http.MethodPost, "/v1/lenses/test?subject=s"},
		{http.MethodDelete, "/v1/lenses/X"},
	} {
		for _, bad := range []string{"", "wrong", token + "x", token[:63]} {
			status, body := ln.raw(t, tc.method, tc.path, bad, "", junk)
			assert.Equal(t, http.StatusUnauthorized, status, "%s %s with %q", tc.method, tc.path, bad)
			assert.Contains(t, string(body), `"code":"unauthorized"`)
		}
	}
	// The right token gets through to the module check.
	status, body := ln.raw(t, http.MethodPost, "/v1/lenses?name=X", token, "", junk)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "invalid_module")
	// Reading needs no token.
	status, _ = ln.raw(t, http.MethodGet, "/v1/lenses", "", "", nil)
	assert.Equal(t, http.StatusOK, status)

	// A configured token replaces the file's.
	ln.stop()
	ln = startLensNode(t, dir, func(c *node.Config) { c.AdminToken = "s3cret" })
	status, _ = ln.raw(t, http.MethodDelete, "/v1/lenses/X", token, "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = ln.raw(t, http.MethodDelete, "/v1/lenses/X", "s3cret", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	ln.stop()

	// A token file others can read is refused, not trusted.
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = node.Open(context.Background(), node.Config{DataDir: dir, Addr: "127.0.0.1:0", LensInterpreter: true})
	require.ErrorContains(t, err, "readable by other users")
}

// TestLenses_DryRun runs modules through POST /v1/lenses/test over stored groups and
// over groups given in the request, next to a built-in lens; nothing is installed.
func TestLenses_DryRun(t *testing.T) {
	ln := startLensNode(t, t.TempDir(), nil)
	ln.waitFor(t, ln.write(t, mixedClaims(6)))
	multi := module(t, multiLens)
	ctx := context.Background()

	// Stored groups: Pick (the most confident, ties by hash) next to HighestConfidence.
	var res api.LensTestResult
	require.NoError(t, ln.admin.Do(ctx, http.MethodPost, "/v1/lenses/test",
		url.Values{"lens": {"Pick"}, "predicate": {"p"}, "limit": {"4"}, "compare": {"highestconfidence"}},
		"application/wasm", multi, &res))
	assert.Equal(t, "stored", res.Source)
	assert.Equal(t, "HighestConfidence", res.Compare)
	assert.Equal(t, 4, res.Groups)
	assert.True(t, res.HasMore)
	require.Len(t, res.Results, 4)
	differ := 0
	for _, r := range res.Results {
		assert.Equal(t, "p", r.Predicate)
		require.Len(t, r.Winners, 1)
		// The comparison column is what a query through the lens answers.
		q, err := ln.query(ctx, url.Values{"subject": {r.Subject}, "predicate": {"p"}, "lens": {"HighestConfidence"}})
		require.NoError(t, err)
		require.Len(t, r.Current, len(q.Assertions))
		for i := range q.Assertions {
			assert.Equal(t, q.Assertions[i].Hash, r.Current[i].Hash)
		}
		if !r.Same {
			differ++
		}
	}
	assert.Equal(t, differ, res.Differ)

	// Groups in the request, as multipart: module + groups.
	groups := `{"groups": [{"subject": "room", "predicate": "temp", "candidates": [
		{"object": {"type": "Number", "value": 20}, "confidence": 0.5,
		 "signers": [{"agent_id": "` + hexAgent(1) + `", "timestamp": 1764000000}]},
		{"object": {"type": "Number", "value": 99}, "confidence": 0.9,
		 "signers": [{"agent_id": "` + hexAgent(2) + `", "timestamp": 1764000000}]},
		{"object": {"type": "Number", "value": 20}, "confidence": 0.4,
		 "signers": [{"agent_id": "` + hexAgent(3) + `", "timestamp": 1764000000}], "votes": {"up": 2, "down": 0}}]}]}`
	body, ctype := multipartBody(t, multi, []byte(groups))
	res = api.LensTestResult{}
	require.NoError(t, ln.admin.Do(ctx, http.MethodPost, "/v1/lenses/test", url.Values{"lens": {"Pick"}, "compare": {"Consensus"}}, ctype, body, &res))
	assert.Equal(t, "request", res.Source)
	require.Len(t, res.Results, 1)
	r := res.Results[0]
	assert.Equal(t, 3, r.Candidates)
	require.Len(t, r.Winners, 1)
	assert.Equal(t, 1, r.Winners[0].Index, "Pick: the most confident")
	assert.JSONEq(t, "99", string(r.Winners[0].Object.Value))
	require.Len(t, r.Current, 1)
	assert.JSONEq(t, "20", string(r.Current[0].Object.Value), "Consensus: two agents say 20")
	assert.False(t, r.Same)
	assert.Equal(t, 1, res.Differ)

	// Refusals and failures.
	for _, tc := range []struct {
		name   string
		params url.Values
		ctype  string
		body   []byte
		code   string
		msg    string
	}{
		{"not a module", url.Values{"subject": {"s01"}}, "", []byte("junk"), api.CodeInvalidModule, "not a WebAssembly module"},
		{"which lens?", url.Values{"subject": {"s01"}}, "", multi, api.CodeInvalidModule, "none is called"},
		{"no groups said", url.Values{"lens": {"Pick"}}, "", multi, api.CodeInvalidRequest, "say which groups"},
		{"both", url.Values{"lens": {"Pick"}, "subject": {"s01"}}, ctype, body, api.CodeInvalidRequest, "not both"},
		{"bad limit", url.Values{"lens": {"Pick"}, "subject": {"s01"}, "limit": {"0"}}, "", multi, api.CodeInvalidRequest, "limit"},
		{"unknown compare", url.Values{"lens": {"Pick"}, "subject": {"s01"}, "compare": {"Nope"}}, "", multi, api.CodeNotFound, "Nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ln.admin.Do(ctx, http.MethodPost, "/v1/lenses/test", tc.params, tc.ctype, tc.body, nil)
			e, ok := api.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Message, tc.msg)
		})
	}
	// A lens that fails on the groups: 500 lens_failed naming it.
	boom := `{"groups": [{"subject": "boom!", "predicate": "p", "candidates": [{"object": {"type": "String", "value": "x"}, "confidence": 1, "signers": []}]}]}`
	body, ctype = multipartBody(t, multi, []byte(boom))
	err := ln.admin.Do(ctx, http.MethodPost, "/v1/lenses/test", url.Values{"lens": {"Fragile"}}, ctype, body, nil)
	e, ok := api.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, api.CodeLensFailed, e.Code)
	assert.Contains(t, e.Message, "lens Fragile failed")

	var list api.LensList
	require.NoError(t, ln.anon.Get(ctx, "/v1/lenses", nil, &list))
	assert.Len(t, list.Lenses, 6, "a dry run installs nothing")
	entries, err := os.ReadDir(filepath.Join(ln.n.Views().Path(), "..", "lenses", "modules"))
	require.NoError(t, err)
	assert.Empty(t, entries, "nor stores anything")
}

// hexAgent is an agent id whose first byte is b, in hex.
func hexAgent(b byte) string {
	var id [32]byte
	id[0] = b
	return hex.EncodeToString(id[:])
}

// multipartBody is a dry run's body with a module part and a groups part.
func multipartBody(t *testing.T, wasm, groups []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile("module", "m.wasm")
	require.NoError(t, err)
	_, err = w.Write(wasm)
	require.NoError(t, err)
	w, err = mw.CreateFormField("groups")
	require.NoError(t, err)
	_, err = w.Write(groups)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}
