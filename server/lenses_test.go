package server_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/host"
	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/server"
)

const adminToken = "t0ken"

// newLensServer is a server with a real lens registry (built-ins only, in wazero's
// interpreter: nothing here runs a lens) and no views.
func newLensServer(t *testing.T, with func(*server.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithInterpreter(true).WithPoolSize(1))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close(ctx)) })
	reg, err := plugins.Open(ctx, t.TempDir(), rt, plugins.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, reg.Close(ctx)) })
	return newTestServer(t, func(c *server.Config) {
		c.Registry = reg
		c.AdminToken = adminToken
		c.MaxModuleBytes = 1 << 10
		if with != nil {
			with(c)
		}
	})
}

// do sends a request and returns the status, the headers and the body.
func (ts *testServer) do(method, path, token, contentType string, body []byte) (int, http.Header, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	require.NoError(ts.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(ts.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(ts.t, err)
	return resp.StatusCode, resp.Header, data
}

func multipartOf(t *testing.T, parts map[string][]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, data := range parts {
		w, err := mw.CreateFormFile(name, name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

func TestLenses_ListAndGet(t *testing.T) {
	ts := newLensServer(t, nil)
	status, _, body := ts.do(http.MethodGet, "/v1/lenses", "", "", nil)
	require.Equal(t, http.StatusOK, status)
	var list api.LensList
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Lenses, 6)
	for _, l := range list.Lenses {
		assert.True(t, l.BuiltIn, l.Name)
		assert.True(t, l.Materialized, l.Name)
		assert.Equal(t, 1, l.Version)
		assert.Len(t, l.Hash, 64)
		assert.Equal(t, "live", l.State)
		assert.Equal(t, api.ServingResolved, l.Serving)
		assert.Nil(t, l.UploadedAt)
	}

	status, _, body = ts.do(http.MethodGet, "/v1/lenses/voteawareCONSENSUS", "", "", nil)
	require.Equal(t, http.StatusOK, status)
	var one api.Lens
	require.NoError(t, json.Unmarshal(body, &one))
	assert.Equal(t, "VoteAwareConsensus", one.Name, "the canonical name")
	require.Len(t, one.Versions, 1)
	assert.True(t, one.Versions[0].Live)

	status, _, body = ts.do(http.MethodGet, "/v1/lenses/Nope", "", "", nil)
	assert.Equal(t, http.StatusNotFound, status, "%s", body)
	status, _, _ = ts.do(http.MethodGet, "/v1/lenses?x=1", "", "", nil)
	assert.Equal(t, http.StatusBadRequest, status)
}

// TestLenses_Refusals checks the status and code of every way an admin request can be
// refused before a module runs.
func TestLenses_Refusals(t *testing.T) {
	ts := newLensServer(t, nil)
	big := make([]byte, 1<<10+1)
	mpNoModule, ctNoModule := multipartOf(t, map[string][]byte{"other": []byte("x")})
	mpBig, ctBig := multipartOf(t, map[string][]byte{"module": big})
	mpJunk, ctJunk := multipartOf(t, map[string][]byte{"module": []byte("junk")})
	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		contentType string
		body        []byte
		status      int
		code        string
		msg         string
	}{
		{"no token", http.MethodPost, "/v1/lenses?name=X", "", "", []byte("x"), 401, api.CodeUnauthorized, "admin token"},
		{"wrong token", http.MethodPost, "/v1/lenses?name=X", "nope", "", []byte("x"), 401, api.CodeUnauthorized, ""},
		{"delete, no token", http.MethodDelete, "/v1/lenses/X", "", "", nil, 401, api.CodeUnauthorized, ""},
		{"dry run, no token", http.MethodPost, "/v1/lenses/test", "", "", nil, 401, api.CodeUnauthorized, ""},
		{"no name", http.MethodPost, "/v1/lenses", adminToken, "", []byte("x"), 400, api.CodeInvalidRequest, "name"},
		{"unknown parameter", http.MethodPost, "/v1/lenses?name=X&colour=red", adminToken, "", []byte("x"), 400, api.CodeInvalidRequest, "colour"},
		{"materialized not a bool", http.MethodPost, "/v1/lenses?name=X&materialized=maybe", adminToken, "", []byte("x"), 400, api.CodeInvalidRequest, "materialized"},
		{"bad name", http.MethodPost, "/v1/lenses?name=9lives", adminToken, "", []byte("x"), 400, api.CodeInvalidRequest, "invalid lens name"},
		{"a built-in's name", http.MethodPost, "/v1/lenses?name=consensus", adminToken, "", []byte("x"), 409, api.CodeConflict, "built-in"},
		{"not a module", http.MethodPost, "/v1/lenses?name=X", adminToken, "application/wasm", []byte("junk"), 400, api.CodeInvalidModule, "invalid module: not a WebAssembly module"},
		{"not a module, multipart", http.MethodPost, "/v1/lenses?name=X", adminToken, ctJunk, mpJunk, 400, api.CodeInvalidModule, "not a WebAssembly module"},
		{"over the module cap", http.MethodPost, "/v1/lenses?name=X", adminToken, "", big, 413, api.CodeTooLarge, "1024 bytes"},
		{"over the module cap, multipart", http.MethodPost, "/v1/lenses?name=X", adminToken, ctBig, mpBig, 413, api.CodeTooLarge, "1024 bytes"},
		{"multipart without module", http.MethodPost, "/v1/lenses?name=X", adminToken, ctNoModule, mpNoModule, 400, api.CodeInvalidRequest, "part"},
		{"delete a built-in", http.MethodDelete, "/v1/lenses/Latest", adminToken, "", nil, 409, api.CodeConflict, "built-in"},
		{"delete unknown", http.MethodDelete, "/v1/lenses/Nope", adminToken, "", nil, 404, api.CodeNotFound, ""},
		{"wrong method", http.MethodPut, "/v1/lenses", adminToken, "", nil, 405, api.CodeMethodNotAllowed, ""},
		{"dry run without stored groups", http.MethodPost, "/v1/lenses/test?subject=s", adminToken, "", []byte("x"), 400, api.CodeInvalidRequest, "no stored groups"},
		{"dry run, unknown compare", http.MethodPost, "/v1/lenses/test?subject=s&compare=Nope", adminToken, "", []byte("x"), 404, api.CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := ts.do(tt.method, tt.path, tt.token, tt.contentType, tt.body)
			require.Equal(t, tt.status, status, "%s", body)
			var out api.ErrorBody
			require.NoError(t, json.Unmarshal(body, &out), "%s", body)
			require.NotNil(t, out.Error)
			assert.Equal(t, tt.code, out.Error.Code)
			assert.Contains(t, out.Error.Message, tt.msg)
			if status == http.StatusUnauthorized {
				assert.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

// TestLenses_NoTokenConfigured: without a configured token the admin endpoints are
// closed, not open.
func TestLenses_NoTokenConfigured(t *testing.T) {
	ts := newLensServer(t, func(c *server.Config) { c.AdminToken = "" })
	for _, token := range []string{"", "anything"} {
		status, _, _ := ts.do(http.MethodDelete, "/v1/lenses/X", token, "", nil)
		assert.Equal(t, http.StatusUnauthorized, status)
	}
}

// TestLenses_ViewsMustAnswerOnTheFly: a registry with views that cannot compute a lens
// on the fly is a configuration error, found at New rather than at the first query.
func TestLenses_ViewsMustAnswerOnTheFly(t *testing.T) {
	_, err := server.New(server.Config{Log: nopLog{}, Registry: noRegistry{}, Views: noViews{}})
	require.ErrorContains(t, err, "on the fly")
}

type (
	nopLog     struct{ server.Log }
	noRegistry struct{ server.LensRegistry }
	noViews    struct{ server.Views }
)
