package assertion_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

func TestParseHex(t *testing.T) {
	lower := "2fe546d677f029f087a3eeafe02f08c462a28d1b8e270f1433bb26b36c81c2fd"
	sigHex := strings.Repeat("ab", 64)
	tests := []struct {
		name    string
		parse   func(string) (string, error) // parses and writes back with String
		in      string
		kind    error // nil when valid
		message string
	}{
		{"Hash/lower", parseHash, lower, nil, ""},
		{"Hash/upper", parseHash, strings.ToUpper(lower), nil, ""},
		{"Hash/short", parseHash, lower[:62], assertion.ErrInvalid, "hash: want 64 hex digits, got 62 bytes"},
		{"Hash/long", parseHash, lower + "00", assertion.ErrInvalid, "got 66 bytes"},
		{"Hash/empty", parseHash, "", assertion.ErrInvalid, "got 0 bytes"},
		{"Hash/not-hex", parseHash, "zz" + lower[2:], assertion.ErrInvalid, "hash: not hex: byte 0x7a at position 0"},
		{"Hash/0x", parseHash, "0x" + lower[2:], assertion.ErrInvalid, "not hex"},
		{"AgentID/lower", parseAgent, lower, nil, ""},
		{"AgentID/upper", parseAgent, strings.ToUpper(lower), nil, ""},
		{"AgentID/short", parseAgent, lower[:10], assertion.ErrSignature, "agent id: want 64 hex digits, got 10 bytes"},
		{"AgentID/not-hex", parseAgent, strings.Repeat("g", 64), assertion.ErrSignature, "agent id: not hex"},
		{"Sig/lower", parseSig, sigHex, nil, ""},
		{"Sig/upper", parseSig, strings.ToUpper(sigHex), nil, ""},
		{"Sig/short", parseSig, sigHex[:64], assertion.ErrSignature, "signature: want 128 hex digits, got 64 bytes"},
		{"Sig/not-hex", parseSig, sigHex[:127] + " ", assertion.ErrSignature, "signature: not hex: byte 0x20 at position 127"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			if tt.kind == nil {
				require.NoError(t, err)
				assert.Equal(t, strings.ToLower(tt.in), got, "String writes lowercase")
				return
			}
			require.ErrorIs(t, err, tt.kind)
			assert.False(t, errors.Is(err, assertion.ErrInvalid) && errors.Is(err, assertion.ErrSignature))
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func parseHash(s string) (string, error) {
	h, err := assertion.ParseHash(s)
	return h.String(), err
}

func parseAgent(s string) (string, error) {
	a, err := assertion.ParseAgentID(s)
	return a.String(), err
}

func parseSig(s string) (string, error) {
	sig, err := assertion.ParseSig(s)
	return sig.String(), err
}

func TestHex_JSON(t *testing.T) {
	type body struct {
		Hash  assertion.Hash    `json:"hash"`
		Agent assertion.AgentID `json:"agent_id"`
		Sig   assertion.Sig     `json:"signature"`
	}
	in := body{Hash: assertion.Hash{1}, Agent: assertion.AgentID{2}, Sig: assertion.Sig{3}}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, `{"hash":"01`+strings.Repeat("00", 31)+`","agent_id":"02`+strings.Repeat("00", 31)+
		`","signature":"03`+strings.Repeat("00", 63)+`"}`, string(b))

	var out body
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
	require.NoError(t, json.Unmarshal([]byte(`{"hash":"0A`+strings.Repeat("00", 31)+`"}`), &out))
	assert.Equal(t, assertion.Hash{0x0a}, out.Hash, "upper case is read too")

	err = json.Unmarshal([]byte(`{"agent_id":"abc"}`), &out)
	assert.ErrorIs(t, err, assertion.ErrSignature, "a malformed agent id is invalid_signature")
	err = json.Unmarshal([]byte(`{"hash":"abc"}`), &out)
	assert.ErrorIs(t, err, assertion.ErrInvalid)
}

func TestHash_IsZero(t *testing.T) {
	assert.True(t, assertion.Hash{}.IsZero())
	assert.False(t, assertion.Hash{31: 1}.IsZero())
}
