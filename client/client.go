// Package client is a small Go client for StemeDB's HTTP API, used by the command line
// and by programs that embed StemeDB access. Non-2xx answers come back as *api.Error.
package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/stemedb/stemedb/api"
)

// DefaultServer is the address `stemedb serve` listens on by default.
const DefaultServer = "http://127.0.0.1:7070"

// maxAnswerBytes bounds how much of an answer the client reads.
const maxAnswerBytes = 64 << 20

// Client talks to one StemeDB server.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client for the server at base (e.g. "http://127.0.0.1:7070").
// A nil httpClient means http.DefaultClient.
func New(base string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), http: httpClient}
}

// WithAdminToken returns a copy of c that authenticates admin requests with token.
func (c *Client) WithAdminToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// Assert posts one signed assertion.
func (c *Client) Assert(ctx context.Context, req *api.AssertRequest) (*api.AssertResult, error) {
	var res api.AssertResult
	return &res, c.postJSON(ctx, "/v1/assert", req, &res)
}

// AssertBatch posts several signed assertions, all or nothing.
func (c *Client) AssertBatch(ctx context.Context, reqs []*api.AssertRequest) (*api.BatchResult, error) {
	body := struct {
		Assertions []*api.AssertRequest `json:"assertions"`
	}{reqs}
	var res api.BatchResult
	return &res, c.postJSON(ctx, "/v1/assert/batch", body, &res)
}

// Vote posts a signed vote.
func (c *Client) Vote(ctx context.Context, req *api.VoteRequest) (*api.RecordedResult, error) {
	var res api.RecordedResult
	return &res, c.postJSON(ctx, "/v1/vote", req, &res)
}

// Retract posts a signed retraction.
func (c *Client) Retract(ctx context.Context, req *api.RetractRequest) (*api.RecordedResult, error) {
	var res api.RecordedResult
	return &res, c.postJSON(ctx, "/v1/retract", req, &res)
}

// Get fetches path (with query parameters) and decodes a JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, params url.Values, out any) error {
	u := c.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	return c.do(req, out)
}

// Do sends a request with a raw body (e.g. a lens module) and decodes the answer into out.
func (c *Client) Do(ctx context.Context, method, path string, params url.Values, contentType string, body []byte, out any) error {
	u := c.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.do(req, out)
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	return c.Do(ctx, http.MethodPost, path, nil, "application/json", body, out)
}

func (c *Client) do(req *http.Request, out any) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		var body api.ErrorBody
		if err := json.Unmarshal(data, &body); err != nil || body.Error == nil {
			return fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(data))
		}
		return body.Error
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
