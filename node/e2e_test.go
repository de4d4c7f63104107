package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/client"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/node/nodetest"
)

// startNode serves a node on a loopback port until the test ends.
func startNode(t testing.TB, dataDir string) (*node.Node, *client.Client) {
	n, c, _ := startNodeURL(t, dataDir)
	return n, c
}

// startNodeURL is startNode that also returns the server's base URL.
func startNodeURL(t testing.TB, dataDir string) (*node.Node, *client.Client, string) {
	n, base := nodetest.Start(t, node.Config{DataDir: dataDir})
	return n, client.New(base, nil), base
}

// rfc8032Key is the key of the API.md appendix.
func rfc8032Key(t *testing.T) ed25519.PrivateKey {
	seed, err := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	require.NoError(t, err)
	return ed25519.NewKeyFromSeed(seed)
}

// TestEndToEnd_Tesla is the original system's flow: a signed write, durable in the log,
// ingested, materialized through a WASM lens, and read back through the query API.
func TestEndToEnd_Tesla(t *testing.T) {
	_, c := startNode(t, t.TempDir())
	ctx := context.Background()
	key := rfc8032Key(t)

	var src assertion.Hash
	for i := range src {
		src[i] = 0x03
	}
	a := assertion.Assertion{Claim: assertion.Claim{
		Subject: "Tesla_Inc", Predicate: "has_revenue",
		Object:     assertion.Object{Type: assertion.TypeNumber, Number: 96.7},
		Confidence: 0.95, Source: src,
	}}
	a.Sign(key, 1764000000)
	res, err := c.Assert(ctx, api.NewAssertRequest(&a))
	require.NoError(t, err)
	assert.Equal(t, "2fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd", res.Hash)
	assert.Equal(t, "created", res.Status)

	var q api.QueryResult
	require.NoError(t, c.Get(ctx, "/v1/query", url.Values{
		"subject": {"Tesla_Inc"}, "lens": {"consensus"},
		"min_offset": {strconv.FormatUint(res.Offset, 10)}, "wait_ms": {"5000"},
	}, &q))
	assert.Equal(t, "Consensus", q.Lens, "the lens's canonical name")
	assert.False(t, q.Stale)
	assert.GreaterOrEqual(t, q.MaterializedOffset, res.Offset)
	assert.EqualValues(t, 1, q.TotalCount)
	assert.False(t, q.HasMore)
	assert.Nil(t, q.NextCursor)
	require.Len(t, q.Assertions, 1)
	got := q.Assertions[0]
	assert.Equal(t, res.Hash, got.Hash)
	assert.Equal(t, "Tesla_Inc", got.Subject)
	assert.Equal(t, "has_revenue", got.Predicate)
	assert.Equal(t, "Number", got.Object.Type)
	assert.JSONEq(t, "96.7", string(got.Object.Value))
	assert.Equal(t, 0.95, got.Confidence)
	require.NotNil(t, got.SourceHash)
	assert.Equal(t, src.String(), *got.SourceHash)
	require.Len(t, got.Signatures, 1)
	assert.Equal(t, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", got.Signatures[0].AgentID)
	assert.Equal(t, "c78dd76e9dd802b87bc290745a9b1a00611b4c44951290993e4206aedc3ca4a865e719fb782b5928dcbf96f07efaa2eff103bc77237627389eecf153adbaae0f", got.Signatures[0].Signature)
	assert.EqualValues(t, 1764000000, got.Signatures[0].Timestamp)
	assert.Equal(t, api.Votes{}, got.Votes)
	assert.False(t, got.Retracted)
	assert.Equal(t, res.Offset, got.Offset)

	var one api.Assertion
	require.NoError(t, c.Get(ctx, "/v1/assertions/"+res.Hash, nil, &one))
	assert.Equal(t, got, one)

	var st api.Status
	require.NoError(t, c.Get(ctx, "/v1/status", nil, &st))
	assert.Equal(t, res.Offset, st.LogOffset)
	assert.Equal(t, res.Offset, st.IngestedOffset)
	assert.Equal(t, res.Offset, st.MaterializedOffset)
	assert.EqualValues(t, 1, st.Assertions)
	assert.EqualValues(t, 1, st.Groups)
	assert.Zero(t, st.DirtyGroups)
}

func TestQuery_Refusals(t *testing.T) {
	_, c := startNode(t, t.TempDir())
	ctx := context.Background()
	cases := []struct {
		params url.Values
		code   string
	}{
		{url.Values{}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "limit": {"0"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "limit": {"1001"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "limit": {"x"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "wait_ms": {"10001"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "min_offset": {"-1"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "cursor": {"!!"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "colour": {"red"}}, api.CodeInvalidRequest},
		{url.Values{"subject": {"s"}, "lens": {"NoSuchLens"}}, api.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.params.Encode(), func(t *testing.T) {
			err := c.Get(ctx, "/v1/query", tc.params, nil)
			e, ok := api.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.code, e.Code)
		})
	}
	for path, code := range map[string]string{
		"/v1/assertions/zz": api.CodeInvalidRequest,
		"/v1/assertions/" + hex.EncodeToString(make([]byte, 32)): api.CodeNotFound,
	} {
		err := c.Get(ctx, path, nil, nil)
		e, ok := api.AsError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, code, e.Code, path)
	}
}

func TestQuery_StaleWhenNotReached(t *testing.T) {
	_, c := startNode(t, t.TempDir())
	var q api.QueryResult
	require.NoError(t, c.Get(context.Background(), "/v1/query", url.Values{
		"subject": {"s"}, "min_offset": {"999999"}, "wait_ms": {"50"},
	}, &q))
	assert.True(t, q.Stale)
	assert.Equal(t, "VoteAwareConsensus", q.Lens, "the default lens")
	assert.Empty(t, q.Assertions)
}
