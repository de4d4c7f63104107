package assertion_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// testSeed is RFC 8032 test 1's secret key, the fixed key of API.md's appendix.
const testSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	seed, err := hex.DecodeString(testSeed)
	require.NoError(t, err)
	return ed25519.NewKeyFromSeed(seed)
}

// otherKey returns a second, deterministic key for tests that need two agents.
func otherKey(n byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = n
	}
	return ed25519.NewKeyFromSeed(seed)
}

func mustObject(t testing.TB, typ, value string) assertion.Object {
	t.Helper()
	o, err := assertion.ParseObject(typ, jsontext.Value(value), assertion.DefaultLimits())
	require.NoError(t, err)
	return o
}

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func mustHash(t testing.TB, s string) assertion.Hash {
	t.Helper()
	h, err := assertion.ParseHash(s)
	require.NoError(t, err)
	return h
}

// teslaClaim is the first claim of API.md's appendix.
func teslaClaim(t testing.TB) assertion.Claim {
	var src assertion.Hash
	for i := range src {
		src[i] = 0x03
	}
	return assertion.Claim{
		Subject:    "Tesla_Inc",
		Predicate:  "has_revenue",
		Object:     mustObject(t, "Number", "96.7"),
		Confidence: 0.95,
		Source:     src,
	}
}
