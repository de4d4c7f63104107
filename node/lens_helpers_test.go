package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/client"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/node/nodetest"
)

// Test lens modules, each built once per test binary (the go build cache makes a rebuild
// cheap; the compile inside the server is what costs, hence the interpreter below).
var (
	evilLens   = buildModule("testdata/evillens")             // misbehaves on subjects "evil..."
	mirrorLens = buildModule("testdata/mirrorlens")           // MyConsensus(Fly), MyAll(Fly)
	soloLens   = buildModule("../plugins/testdata/sololens")  // Solo: the smallest hash
	multiLens  = buildModule("../plugins/testdata/multilens") // Pick, Nobody, Fragile
	trapLens   = buildModule("../plugins/testdata/traplens")  // fails on every call
	fsLens     = buildModule("../plugins/testdata/fslens")    // imports path_open
	envLens    = buildModule("../plugins/testdata/envlens")   // imports env.now
	abi2Lens   = buildModule("../plugins/testdata/abi2lens")  // speaks ABI version 2
)

func buildModule(dir string) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		return sdktest.Build(context.Background(), filepath.FromSlash(dir))
	})
}

func module(t testing.TB, build func() ([]byte, error)) []byte {
	t.Helper()
	wasm, err := build()
	require.NoError(t, err)
	return wasm
}

// lensNode is a running node with a client that carries its admin token.
type lensNode struct {
	n     *node.Node
	base  string
	admin *client.Client
	anon  *client.Client
	stop  func() // stops serving and closes the node (also done at cleanup)
}

// startLensNode serves a node on dataDir until the test ends or stop is called. Lenses
// run in wazero's interpreter: under the race detector the compiler spends seconds on
// each 2 MB Go module, and nothing checked here depends on the engine (host's tests run
// both). with adjusts the configuration.
func startLensNode(t testing.TB, dataDir string, with func(*node.Config)) *lensNode {
	t.Helper()
	cfg := node.Config{
		DataDir:         dataDir,
		Addr:            "127.0.0.1:0",
		LensInterpreter: true,
		LensCallTimeout: 3 * time.Second,
		LensMemoryBytes: 32 << 20,
	}
	if with != nil {
		with(&cfg)
	}
	n, base, stop := nodetest.StartStoppable(t, cfg)
	anon := client.New(base, nil)
	return &lensNode{n: n, base: base, anon: anon, admin: anon.WithAdminToken(n.AdminToken()), stop: stop}
}

// raw sends a request and returns the status and body, for checks on exact statuses.
func (ln *lensNode) raw(t testing.TB, method, path, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ln.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

// upload posts wasm under name and returns the answer, failing the test unless 201.
func (ln *lensNode) upload(t testing.TB, name string, wasm []byte, materialized bool) api.Lens {
	t.Helper()
	status, body := ln.raw(t, http.MethodPost, "/v1/lenses?name="+url.QueryEscape(name)+"&materialized="+strconv.FormatBool(materialized),
		ln.n.AdminToken(), "application/wasm", wasm)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var l api.Lens
	require.NoError(t, json.Unmarshal(body, &l))
	return l
}

// uploadErr posts wasm under name and returns the coded error (nil on success).
func (ln *lensNode) uploadErr(t testing.TB, name string, wasm []byte) *api.Error {
	t.Helper()
	err := ln.admin.Do(context.Background(), http.MethodPost, "/v1/lenses", url.Values{"name": {name}, "materialized": {"false"}}, "application/wasm", wasm, nil)
	if err == nil {
		return nil
	}
	e, ok := api.AsError(err)
	require.True(t, ok, "%v", err)
	return e
}

// lens returns GET /v1/lenses/{name}.
func (ln *lensNode) lens(t testing.TB, name string) api.Lens {
	t.Helper()
	var l api.Lens
	require.NoError(t, ln.anon.Get(context.Background(), "/v1/lenses/"+name, nil, &l))
	return l
}

// query runs GET /v1/query; the error is the coded error, if any.
func (ln *lensNode) query(ctx context.Context, params url.Values) (api.QueryResult, error) {
	var q api.QueryResult
	err := ln.anon.Get(ctx, "/v1/query", params, &q)
	return q, err
}

// queryAll follows next_cursor through every page of params, limit at a time, and
// returns the winners' hashes in order and the total_count of the first page.
func (ln *lensNode) queryAll(t testing.TB, params url.Values, limit int) ([]string, int64) {
	t.Helper()
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	p.Set("limit", strconv.Itoa(limit))
	var hashes []string
	total := int64(-1)
	for {
		q, err := ln.query(context.Background(), p)
		require.NoError(t, err)
		if total < 0 {
			total = q.TotalCount
		}
		require.Equal(t, total, q.TotalCount, "total_count is over all pages")
		for _, a := range q.Assertions {
			hashes = append(hashes, a.Subject+"/"+a.Predicate+"/"+a.Hash)
		}
		if q.NextCursor == nil {
			require.False(t, q.HasMore)
			return hashes, total
		}
		require.True(t, q.HasMore)
		require.Len(t, q.Assertions, limit)
		p.Set("cursor", *q.NextCursor)
	}
}

// claim is one assertion to write, signed by agents (by index into testKeys).
type claim struct {
	subject, predicate string
	value              float64
	confidence         float64
	agents             []int
	ts                 uint64
}

var testKeys = func() []ed25519.PrivateKey {
	keys := make([]ed25519.PrivateKey, 5)
	for i := range keys {
		keys[i] = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(0x40 + i)}, ed25519.SeedSize))
	}
	return keys
}()

// write posts claims in one batch and returns the log offset to wait for.
func (ln *lensNode) write(t testing.TB, claims []claim) uint64 {
	t.Helper()
	reqs := make([]*api.AssertRequest, len(claims))
	for i, c := range claims {
		a := assertion.Assertion{Claim: assertion.Claim{
			Subject: c.subject, Predicate: c.predicate,
			Object:     assertion.Object{Type: assertion.TypeNumber, Number: c.value},
			Confidence: c.confidence,
		}}
		ts := c.ts
		if ts == 0 {
			ts = 1764000000
		}
		for _, k := range c.agents {
			a.Sign(testKeys[k], ts)
		}
		reqs[i] = api.NewAssertRequest(&a)
	}
	res, err := ln.admin.AssertBatch(context.Background(), reqs)
	require.NoError(t, err)
	return res.Offset
}

// waitFor waits until the views include offset (through a query's min_offset).
func (ln *lensNode) waitFor(t testing.TB, offset uint64) {
	t.Helper()
	q, err := ln.query(context.Background(), url.Values{"subject": {"-"}, "lens": {"Latest"},
		"min_offset": {strconv.FormatUint(offset, 10)}, "wait_ms": {"10000"}})
	require.NoError(t, err)
	require.False(t, q.Stale, "materialized offset %d not reached", offset)
}

// mixedClaims is a data set full of ties for the lenses to disagree on: subjects s00..
// s(n-1) under predicates p and q, one to four candidates each, co-signed and not.
func mixedClaims(n int) []claim {
	var out []claim
	for i := range n {
		for _, pred := range []string{"p", "q"} {
			for j := range 1 + (i+len(pred))%4 {
				out = append(out, claim{
					subject: fmt.Sprintf("s%02d", i), predicate: pred,
					value: float64((i + j) % 3), confidence: float64((i*7+j*3)%5) / 4,
					agents: []int{j % 5, (j + 1 + i%4) % 5}[:1+(i+j)%2], ts: 1764000000 + uint64((i*13+j)%7),
				})
			}
		}
	}
	return out
}
