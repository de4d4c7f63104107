package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/wal"
)

// now is the fixed clock of these tests; signed timestamps are chosen around it.
var testNow = time.Unix(1764000000, 0)

type testServer struct {
	t   *testing.T
	url string
	log *wal.Log
}

func newTestServer(t *testing.T, with func(*server.Config)) *testServer {
	t.Helper()
	l, err := wal.Open(t.TempDir(), wal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	cfg := server.Config{Log: l, Now: func() time.Time { return testNow }}
	if with != nil {
		with(&cfg)
	}
	s, err := server.New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &testServer{t: t, url: hs.URL, log: l}
}

// post sends body and returns the status and the decoded JSON answer.
func (ts *testServer) post(path string, body []byte) (int, map[string]any) {
	ts.t.Helper()
	resp, err := http.Post(ts.url+path, "application/json", bytes.NewReader(body))
	require.NoError(ts.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(ts.t, err)
	var out map[string]any
	require.NoError(ts.t, json.Unmarshal(data, &out), "answer is not JSON: %s", data)
	return resp.StatusCode, out
}

// records returns every payload in the log, decoded.
func (ts *testServer) records() []assertion.Record {
	ts.t.Helper()
	end := ts.log.End()
	r, err := ts.log.NewReader(0)
	require.NoError(ts.t, err)
	defer r.Close()
	var recs []assertion.Record
	for pos := uint64(0); pos < end; {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rec, err := r.Next(ctx)
		cancel()
		require.NoError(ts.t, err)
		dec, err := assertion.DecodeRecord(rec.Payload)
		require.NoError(ts.t, err)
		recs = append(recs, dec)
		pos = rec.End
	}
	return recs
}

// agent is a test signer with a deterministic key.
type agent struct {
	key ed25519.PrivateKey
	id  assertion.AgentID
}

func newAgent(n byte) agent {
	seed := bytes.Repeat([]byte{n}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	var id assertion.AgentID
	copy(id[:], key.Public().(ed25519.PublicKey))
	return agent{key: key, id: id}
}

func (a agent) sign(h assertion.Hash, ts uint64) assertion.Signature {
	s := assertion.Signature{Agent: a.id, Timestamp: ts}
	copy(s.Sig[:], ed25519.Sign(a.key, assertion.AssertMessage(h, ts)))
	return s
}

func teslaClaim() assertion.Claim {
	var src assertion.Hash
	for i := range src {
		src[i] = 3
	}
	return assertion.Claim{Subject: "Tesla_Inc", Predicate: "has_revenue",
		Object: assertion.Object{Type: assertion.TypeNumber, Number: 96.7}, Confidence: 0.95, Source: src}
}

func signed(c assertion.Claim, ts uint64, agents ...agent) *assertion.Assertion {
	a := &assertion.Assertion{Claim: c}
	h := c.Hash()
	for _, ag := range agents {
		a.Signatures = append(a.Signatures, ag.sign(h, ts))
	}
	return a
}

func body(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestAssert_CreatedAndDurable(t *testing.T) {
	ts := newTestServer(t, nil)
	a := signed(teslaClaim(), 1764000000, newAgent(1))
	status, out := ts.post("/v1/assert", body(t, api.NewAssertRequest(a)))
	require.Equal(t, http.StatusCreated, status, out)
	assert.Equal(t, "2fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd", out["hash"])
	assert.Equal(t, "created", out["status"])
	assert.EqualValues(t, ts.log.End(), out["offset"], "offset is the end of the durable record")

	recs := ts.records()
	require.Len(t, recs, 1)
	require.Equal(t, assertion.KindAssert, recs[0].Kind)
	require.Len(t, recs[0].Assertions, 1)
	assert.Equal(t, a.Claim.Hash(), recs[0].Assertions[0].Claim.Hash())
	assert.Equal(t, a.Signatures, recs[0].Assertions[0].Signatures)
}

func TestAssert_IdempotentAndCoSigned(t *testing.T) {
	ts := newTestServer(t, nil)
	alice, bob := newAgent(1), newAgent(2)
	c := teslaClaim()
	var hashes []any
	for _, a := range []*assertion.Assertion{
		signed(c, 1764000000, alice),
		signed(c, 1764000000, alice), // the same write again
		signed(c, 1764000050, bob),   // a second agent signs the same claim
		signed(c, 1764000060, alice, bob),
	} {
		status, out := ts.post("/v1/assert", body(t, api.NewAssertRequest(a)))
		require.Equal(t, http.StatusCreated, status, out)
		hashes = append(hashes, out["hash"])
	}
	for _, h := range hashes {
		assert.Equal(t, hashes[0], h, "the same claim is the same assertion")
	}
	recs := ts.records()
	require.Len(t, recs, 4)
	agents := map[assertion.AgentID]bool{}
	for _, r := range recs {
		assert.Equal(t, c.Hash(), r.Assertions[0].Claim.Hash())
		for _, s := range r.Assertions[0].Signatures {
			agents[s.Agent] = true
		}
	}
	assert.Len(t, agents, 2)
}

func TestVoteAndRetract_Recorded(t *testing.T) {
	ts := newTestServer(t, nil)
	alice := newAgent(1)
	h := teslaClaim().Hash()
	v := assertion.Vote{Assertion: h, Agent: alice.id, Value: -1, Timestamp: 1764000100}
	copy(v.Sig[:], ed25519.Sign(alice.key, assertion.VoteMessage(h, v.Value, v.Timestamp)))
	status, out := ts.post("/v1/vote", body(t, api.NewVoteRequest(&v)))
	require.Equal(t, http.StatusCreated, status, out)
	assert.Equal(t, "recorded", out["status"])

	r := assertion.Retraction{Assertion: h, Agent: alice.id, Timestamp: 1764000200}
	copy(r.Sig[:], ed25519.Sign(alice.key, assertion.RetractMessage(h, r.Timestamp)))
	status, out = ts.post("/v1/retract", body(t, api.NewRetractRequest(&r)))
	require.Equal(t, http.StatusCreated, status, out)
	assert.EqualValues(t, ts.log.End(), out["offset"])

	recs := ts.records()
	require.Len(t, recs, 2)
	assert.Equal(t, v, recs[0].Vote)
	assert.Equal(t, r, recs[1].Retraction)
}

func TestBatch_AllOrNothing(t *testing.T) {
	ts := newTestServer(t, nil)
	alice := newAgent(1)
	good := func(i int) *api.AssertRequest {
		c := teslaClaim()
		c.Subject = fmt.Sprintf("company_%d", i)
		return api.NewAssertRequest(signed(c, 1764000000, alice))
	}
	items := []*api.AssertRequest{good(0), good(1), good(2), good(3)}
	conf := 1.5
	items[1].Confidence = &conf                                      // out of range
	items[3].Signatures[0].Signature = ptr(strings.Repeat("00", 64)) // does not verify
	status, out := ts.post("/v1/assert/batch", body(t, map[string]any{"assertions": items}))
	require.Equal(t, http.StatusBadRequest, status, out)
	assert.Equal(t, "invalid_request", errCode(out), "the first bad item's code")
	e := out["error"].(map[string]any)
	bad := e["items"].([]any)
	require.Len(t, bad, 2, "every bad item is listed, the malformed one and the one whose signature fails")
	assert.EqualValues(t, 1, bad[0].(map[string]any)["index"])
	assert.Equal(t, "invalid_request", bad[0].(map[string]any)["code"])
	assert.EqualValues(t, 3, bad[1].(map[string]any)["index"])
	assert.Equal(t, "invalid_signature", bad[1].(map[string]any)["code"])
	assert.Zero(t, ts.log.End(), "nothing from a refused batch is stored")

	items[1] = good(1)
	status, out = ts.post("/v1/assert/batch", body(t, map[string]any{"assertions": items}))
	require.Equal(t, http.StatusBadRequest, status, out)
	assert.Equal(t, "invalid_signature", errCode(out))
	bad = out["error"].(map[string]any)["items"].([]any)
	require.Len(t, bad, 1)
	assert.EqualValues(t, 3, bad[0].(map[string]any)["index"])
	assert.Zero(t, ts.log.End())

	items[3] = good(3)
	status, out = ts.post("/v1/assert/batch", body(t, map[string]any{"assertions": items}))
	require.Equal(t, http.StatusCreated, status, out)
	results := out["results"].([]any)
	require.Len(t, results, 4)
	recs := ts.records()
	require.Len(t, recs, 1, "a batch is one record")
	require.Len(t, recs[0].Assertions, 4)
	for i, r := range results {
		assert.Equal(t, recs[0].Assertions[i].Claim.Hash().String(), r.(map[string]any)["hash"])
	}
}

func ptr[T any](v T) *T { return &v }
