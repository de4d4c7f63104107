package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
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

// validAssert is a well-formed, correctly signed assert body as a generic map, so that
// each case can break exactly one thing.
func validAssert(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body(t, api.NewAssertRequest(signed(teslaClaim(), 1764000000, newAgent(1)))), &m))
	return m
}

func sig0(m map[string]any) map[string]any {
	return m["signatures"].([]any)[0].(map[string]any)
}

// TestWrites_Refused walks every refusal of API.md §2 that applies to writes and checks
// the code and that nothing reached the log.
func TestWrites_Refused(t *testing.T) {
	alice := newAgent(1)
	h := teslaClaim().Hash()
	vote := func(v int8, ts uint64) map[string]any {
		vt := assertion.Vote{Assertion: h, Agent: alice.id, Value: v, Timestamp: ts}
		copy(vt.Sig[:], ed25519.Sign(alice.key, assertion.VoteMessage(h, v, ts)))
		var m map[string]any
		require.NoError(t, json.Unmarshal(body(t, api.NewVoteRequest(&vt)), &m))
		return m
	}
	retract := func() map[string]any {
		r := assertion.Retraction{Assertion: h, Agent: alice.id, Timestamp: 1764000000}
		copy(r.Sig[:], ed25519.Sign(alice.key, assertion.RetractMessage(h, r.Timestamp)))
		var m map[string]any
		require.NoError(t, json.Unmarshal(body(t, api.NewRetractRequest(&r)), &m))
		return m
	}
	mutate := func(f func(m map[string]any)) []byte {
		m := validAssert(t)
		f(m)
		return body(t, m)
	}
	longStr := strings.Repeat("x", 1025)
	manySigs := func(m map[string]any) {
		var sigs []any
		for i := range 33 {
			a := newAgent(byte(i + 1))
			s := a.sign(h, 1764000000)
			sigs = append(sigs, map[string]any{"agent_id": s.Agent.String(), "signature": s.Sig.String(), "timestamp": s.Timestamp})
		}
		m["signatures"] = sigs
	}
	cases := []struct {
		name string
		path string
		body []byte
		code string
	}{
		{"not JSON", "/v1/assert", []byte(`{"subject": `), "invalid_json"},
		{"not an object", "/v1/assert", []byte(`[1,2]`), "invalid_json"},
		{"confidence as string", "/v1/assert", mutate(func(m map[string]any) { m["confidence"] = "0.9" }), "invalid_json"},
		{"subject as number", "/v1/assert", mutate(func(m map[string]any) { m["subject"] = 7 }), "invalid_json"},
		{"missing subject", "/v1/assert", mutate(func(m map[string]any) { delete(m, "subject") }), "invalid_request"},
		{"missing signatures", "/v1/assert", mutate(func(m map[string]any) { delete(m, "signatures") }), "invalid_request"},
		{"empty signatures", "/v1/assert", mutate(func(m map[string]any) { m["signatures"] = []any{} }), "invalid_request"},
		{"unknown field", "/v1/assert", mutate(func(m map[string]any) { m["color"] = "red" }), "invalid_request"},
		{"unknown field in signature", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["extra"] = 1 }), "invalid_request"},
		{"confidence above 1", "/v1/assert", mutate(func(m map[string]any) { m["confidence"] = 1.5 }), "invalid_request"},
		{"confidence below 0", "/v1/assert", mutate(func(m map[string]any) { m["confidence"] = -0.1 }), "invalid_request"},
		{"empty subject", "/v1/assert", mutate(func(m map[string]any) { m["subject"] = "" }), "invalid_request"},
		{"subject too long", "/v1/assert", mutate(func(m map[string]any) { m["subject"] = longStr }), "invalid_request"},
		{"predicate too long", "/v1/assert", mutate(func(m map[string]any) { m["predicate"] = longStr }), "invalid_request"},
		{"unknown object type", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "number", "value": 1} }), "invalid_request"},
		{"Number as string", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "Number", "value": "1"} }), ""},
		{"empty Entity", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "Entity", "value": ""} }), "invalid_request"},
		{"bad Time", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "Time", "value": "2024-01-02 03:04:05Z"} }), "invalid_request"},
		{"leap second", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "Time", "value": "2016-12-31T23:59:60Z"} }), "invalid_request"},
		{"Json too large", "/v1/assert", mutate(func(m map[string]any) {
			m["object"] = map[string]any{"type": "Json", "value": strings.Repeat("a", 64<<10)}
		}), "invalid_request"},
		{"object without value", "/v1/assert", mutate(func(m map[string]any) { m["object"] = map[string]any{"type": "String"} }), "invalid_request"},
		{"bad source_hash", "/v1/assert", mutate(func(m map[string]any) { m["source_hash"] = "abc" }), "invalid_request"},
		{"33 signatures", "/v1/assert", mutate(manySigs), "invalid_request"},
		{"one agent twice", "/v1/assert", mutate(func(m map[string]any) {
			m["signatures"] = append(m["signatures"].([]any), sig0(m))
		}), "invalid_request"},
		{"timestamp in the future", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["timestamp"] = 1764000000 + 301 }), "invalid_request"},
		{"negative timestamp", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["timestamp"] = -1 }), "invalid_request"},
		{"signature does not verify", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["timestamp"] = 1764000001 }), "invalid_signature"},
		{"signature of another claim", "/v1/assert", mutate(func(m map[string]any) { m["confidence"] = 0.5 }), "invalid_signature"},
		{"malformed agent_id", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["agent_id"] = "abcd" }), "invalid_signature"},
		{"malformed signature", "/v1/assert", mutate(func(m map[string]any) { sig0(m)["signature"] = "zz" }), "invalid_signature"},
		{"invalid UTF-8", "/v1/assert", bytes.Replace(mutate(func(m map[string]any) {}), []byte(`"Tesla_Inc"`), []byte("\"Tesla\xff\""), 1), "invalid_request"},
		{"lone surrogate", "/v1/assert", bytes.Replace(mutate(func(m map[string]any) {}), []byte(`"Tesla_Inc"`), []byte(`"Tesla\ud800"`), 1), "invalid_request"},
		{"lone surrogate inside Json", "/v1/assert", mutate2(t, `{"type":"Json","value":{"k":"\udc00"}}`), "invalid_request"},
		{"duplicate key", "/v1/assert", bytes.Replace(mutate(func(m map[string]any) {}), []byte(`"subject":`), []byte(`"subject":"x","subject":`), 1), "invalid_request"},
		{"duplicate key inside Json", "/v1/assert", mutate2(t, `{"type":"Json","value":{"a":1,"a":2}}`), "invalid_request"},
		{"batch missing", "/v1/assert/batch", []byte(`{}`), "invalid_request"},
		{"batch empty", "/v1/assert/batch", []byte(`{"assertions":[]}`), "invalid_request"},
		{"batch item not an object", "/v1/assert/batch", []byte(`{"assertions":[7]}`), "invalid_json"},
		{"vote of 2", "/v1/vote", mutateMap(t, vote(1, 1764000000), func(m map[string]any) { m["vote"] = 2 }), "invalid_request"},
		{"vote of 300", "/v1/vote", mutateMap(t, vote(1, 1764000000), func(m map[string]any) { m["vote"] = 300 }), "invalid_request"},
		{"vote missing", "/v1/vote", mutateMap(t, vote(1, 1764000000), func(m map[string]any) { delete(m, "vote") }), "invalid_request"},
		{"vote bad hash", "/v1/vote", mutateMap(t, vote(1, 1764000000), func(m map[string]any) { m["assertion_hash"] = "xyz" }), "invalid_request"},
		{"vote signature for other value", "/v1/vote", mutateMap(t, vote(1, 1764000000), func(m map[string]any) { m["vote"] = -1 }), "invalid_signature"},
		{"vote in the future", "/v1/vote", body(t, vote(1, 1764000000+3600)), "invalid_request"},
		{"retract unknown field", "/v1/retract", mutateMap(t, retract(), func(m map[string]any) { m["vote"] = 1 }), "invalid_request"},
		{"retract does not verify", "/v1/retract", mutateMap(t, retract(), func(m map[string]any) { m["timestamp"] = 1764000001 }), "invalid_signature"},
		{"retract missing signature", "/v1/retract", mutateMap(t, retract(), func(m map[string]any) { delete(m, "signature") }), "invalid_request"},
	}
	ts := newTestServer(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.post(tc.path, tc.body)
			assert.Equal(t, http.StatusBadRequest, status, out)
			if tc.code != "" {
				assert.Equal(t, tc.code, errCode(out), out)
			} else {
				assert.Contains(t, []string{"invalid_json", "invalid_request"}, errCode(out))
			}
			assert.NotEmpty(t, out["error"].(map[string]any)["message"])
			assert.Zero(t, ts.log.End(), "a refused write stores nothing")
		})
	}
}

func mutate2(t *testing.T, object string) []byte {
	t.Helper()
	b := body(t, validAssert(t))
	i := bytes.Index(b, []byte(`"object":`))
	j := bytes.IndexByte(b[i:], '}')
	return append(append(append([]byte{}, b[:i+len(`"object":`)]...), object...), b[i+j+1:]...)
}

func mutateMap(t *testing.T, m map[string]any, f func(map[string]any)) []byte {
	t.Helper()
	f(m)
	return body(t, m)
}

func TestRoutes_StatusCodes(t *testing.T) {
	ts := newTestServer(t, func(c *server.Config) { c.MaxBodyBytes = 4096 })
	cases := []struct {
		method, path string
		body         []byte
		status       int
		code         string
	}{
		{http.MethodGet, "/v1/assert", nil, http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPut, "/v1/vote", nil, http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodGet, "/v1/nowhere", nil, http.StatusNotFound, "not_found"},
		{http.MethodPost, "/v1/assert", bytes.Repeat([]byte(" "), 5000), http.StatusRequestEntityTooLarge, "too_large"},
		{http.MethodGet, "/healthz", nil, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ts.url+tc.path, bytes.NewReader(tc.body))
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			if tc.code != "" {
				var out map[string]any
				require.NoError(t, json.UnmarshalRead(resp.Body, &out))
				assert.Equal(t, tc.code, errCode(out))
			}
		})
	}
	assert.Zero(t, ts.log.End())
}

// failingLog stands in for a log that is full or broken.
type failingLog struct{ err error }

func (f failingLog) Append(context.Context, []byte) (wal.Position, error) {
	return wal.Position{}, f.err
}

func TestWrites_BackPressure(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"queue full", fmt.Errorf("append: %w", wal.ErrOverloaded), http.StatusTooManyRequests, "overloaded"},
		{"disk failed", fmt.Errorf("fsync: %w", wal.ErrFailed), http.StatusServiceUnavailable, "unavailable"},
		{"closing", wal.ErrClosed, http.StatusServiceUnavailable, "unavailable"},
		{"unexpected", fmt.Errorf("secret internal detail"), http.StatusInternalServerError, "internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := server.New(server.Config{Log: failingLog{tc.err}, Now: func() time.Time { return testNow }})
			require.NoError(t, err)
			hs := httptest.NewServer(s.Handler())
			defer hs.Close()
			resp, err := http.Post(hs.URL+"/v1/assert", "application/json", bytes.NewReader(body(t, validAssert(t))))
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			var out map[string]any
			require.NoError(t, json.UnmarshalRead(resp.Body, &out))
			assert.Equal(t, tc.code, errCode(out))
			if tc.status != http.StatusInternalServerError {
				assert.NotEmpty(t, resp.Header.Get("Retry-After"))
			} else {
				assert.NotContains(t, out["error"].(map[string]any)["message"], "secret")
			}
		})
	}
}
