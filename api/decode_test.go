package api_test

import (
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
)

func TestDecode_Classifies(t *testing.T) {
	cases := []struct {
		name, body, code string
	}{
		{"valid", `{"subject":"s"}`, ""},
		{"truncated", `{"subject":`, api.CodeInvalidJSON},
		{"trailing garbage", `{"subject":"s"} x`, api.CodeInvalidJSON},
		{"wrong type", `{"subject":1}`, api.CodeInvalidJSON},
		{"array for object", `{"object":[1]}`, api.CodeInvalidJSON},
		{"unknown member", `{"subjects":"s"}`, api.CodeInvalidRequest},
		{"duplicate key", `{"subject":"a","subject":"b"}`, api.CodeInvalidRequest},
		{"duplicate key nested", `{"object":{"type":"Json","value":{"a":1,"a":1}}}`, api.CodeInvalidRequest},
		{"lone high surrogate", `{"subject":"\ud800"}`, api.CodeInvalidRequest},
		{"lone low surrogate nested", `{"object":{"type":"Json","value":["\udfff"]}}`, api.CodeInvalidRequest},
		{"surrogate pair is fine", `{"subject":"\ud83d\ude00"}`, ""},
		{"invalid UTF-8", "{\"subject\":\"\xc3\x28\"}", api.CodeInvalidRequest},
		{"negative integer", `{"signatures":[{"timestamp":-5}]}`, api.CodeInvalidRequest},
		{"fractional integer", `{"signatures":[{"timestamp":1.5}]}`, api.CodeInvalidRequest},
		{"huge integer", `{"signatures":[{"timestamp":1e30}]}`, api.CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var req api.AssertRequest
			err := api.Decode([]byte(tc.body), &req)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			e, ok := api.AsError(err)
			require.True(t, ok, "error is an *api.Error: %v", err)
			assert.Equal(t, tc.code, e.Code, e.Message)
			assert.NotEmpty(t, e.Message)
		})
	}
}

func TestRequest_RoundTrip(t *testing.T) {
	lim := assertion.DefaultLimits()
	now := time.Unix(1764000000, 0)
	for _, body := range []string{
		`{"subject":"Tesla_Inc","predicate":"has_revenue","object":{"type":"Number","value":96.7},"confidence":0.95,"signatures":[{"agent_id":"D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A","signature":"c78dd76e9dd802b87bc290745a9b1a00611b4c44951290993e4206aedc3ca4a865e719fb782b5928dcbf96f07efaa2eff103bc77237627389eecf153adbaae0f","timestamp":1764000000}],"source_hash":"0303030303030303030303030303030303030303030303030303030303030303"}`,
	} {
		var req api.AssertRequest
		require.NoError(t, api.Decode([]byte(body), &req))
		a, err := req.ToAssertion(lim, now)
		require.NoError(t, err)
		require.NoError(t, a.VerifySignatures(), "upper-case hex decodes to the appendix key")
		assert.Equal(t, "2fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd", a.Claim.Hash().String())

		again, err := json.Marshal(api.NewAssertRequest(&a))
		require.NoError(t, err)
		var req2 api.AssertRequest
		require.NoError(t, api.Decode(again, &req2))
		b, err := req2.ToAssertion(lim, now)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	}
}
