package api_test

import (
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
)

// FuzzAssertRequest feeds arbitrary bodies through decoding and validation: it must never
// panic, every refusal is a coded *api.Error, and an accepted body re-encodes to a request
// that decodes to the same assertion.
func FuzzAssertRequest(f *testing.F) {
	for _, seed := range []string{
		`{"subject":"Tesla_Inc","predicate":"has_revenue","object":{"type":"Number","value":96.7},"confidence":0.95,"signatures":[{"agent_id":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","signature":"c78dd76e9dd802b87bc290745a9b1a00611b4c44951290993e4206aedc3ca4a865e719fb782b5928dcbf96f07efaa2eff103bc77237627389eecf153adbaae0f","timestamp":1764000000}],"source_hash":"0303030303030303030303030303030303030303030303030303030303030303"}`,
		`{"subject":"s","predicate":"p","object":{"type":"Json","value":{"b":[1.0,"x"],"a":true}},"confidence":0,"signatures":[{"agent_id":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","signature":"00","timestamp":1}]}`,
		`{"subject":"s","predicate":"p","object":{"type":"Time","value":"2024-01-02T03:04:05.5+01:00"},"confidence":1,"signatures":[]}`,
		`{"subject":"\ud800","object":{"type":"Boolean","value":true}}`,
		`{"a":1,"a":2}`,
		`[]`, `null`, ``, `{"object":{"type":"Entity","value":""}}`,
	} {
		f.Add([]byte(seed))
	}
	lim := assertion.DefaultLimits()
	now := time.Unix(1764000000, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.AssertRequest
		err := api.Decode(body, &req)
		if err != nil {
			_, ok := api.AsError(err)
			require.True(t, ok, "decode error is coded: %v", err)
			return
		}
		a, err := req.ToAssertion(lim, now)
		if err != nil {
			_, ok := api.AsError(err)
			require.True(t, ok, "validation error is coded: %v", err)
			return
		}
		again, err := json.Marshal(api.NewAssertRequest(&a))
		require.NoError(t, err)
		var req2 api.AssertRequest
		require.NoError(t, api.Decode(again, &req2))
		b, err := req2.ToAssertion(lim, now)
		require.NoError(t, err)
		require.Equal(t, a.Claim.Hash(), b.Claim.Hash())
		require.Equal(t, a.Signatures, b.Signatures)
	})
}
