package assertion_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

func TestAssertion_VerifySignatures(t *testing.T) {
	k1, k2 := testKey(t), otherKey(7)
	signed := func() assertion.Assertion {
		a := assertion.Assertion{Claim: teslaClaim(t)}
		a.Sign(k1, 1764000000)
		a.Sign(k2, 1764000001)
		return a
	}
	tests := []struct {
		name    string
		with    func(*assertion.Assertion)
		message string // "" when valid
	}{
		{"valid", func(*assertion.Assertion) {}, ""},
		{"no signatures", func(a *assertion.Assertion) { a.Signatures = nil }, ""}, // shape is Validate's job
		{"claim changed", func(a *assertion.Assertion) { a.Claim.Confidence = 0.5 }, "signatures[0].signature: does not verify for agent d75a98"},
		{"timestamp changed", func(a *assertion.Assertion) { a.Signatures[1].Timestamp++ }, "signatures[1].signature: does not verify"},
		{"signature flipped", func(a *assertion.Assertion) { a.Signatures[1].Sig[5] ^= 1 }, "signatures[1]"},
		{"agents swapped", func(a *assertion.Assertion) {
			a.Signatures[0].Agent, a.Signatures[1].Agent = a.Signatures[1].Agent, a.Signatures[0].Agent
		}, "signatures[0]"},
		{"zero key", func(a *assertion.Assertion) { a.Signatures[1].Agent = assertion.AgentID{} }, "signatures[1]"},
		{"non-canonical S", func(a *assertion.Assertion) {
			// S + L, where L is the order of the group: the same signature in a form that
			// RFC 8032 and crypto/ed25519 refuse.
			addL(&a.Signatures[0].Sig)
		}, "signatures[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := signed()
			tt.with(&a)
			err := a.VerifySignatures()
			if tt.message == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, assertion.ErrSignature)
			assert.NotErrorIs(t, err, assertion.ErrInvalid)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// addL adds the group order L to the S half of an Ed25519 signature (little-endian).
func addL(sig *assertion.Sig) {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		31: 0x10}
	carry := 0
	for i := range 32 {
		s := int(sig[32+i]) + int(l[i]) + carry
		sig[32+i] = byte(s)
		carry = s >> 8
	}
}

func TestVote_Verify(t *testing.T) {
	key := testKey(t)
	h := mustHash(t, appendixTeslaHash)
	for _, value := range []int8{-1, 0, 1} {
		v := assertion.SignVote(key, h, value, 1764000100)
		require.NoError(t, v.Verify())
		assert.Equal(t, assertion.AgentOf(key), v.Agent)

		for name, change := range map[string]func(*assertion.Vote){
			"value":     func(v *assertion.Vote) { v.Value = (v.Value+2)%3 - 1 },
			"timestamp": func(v *assertion.Vote) { v.Timestamp-- },
			"hash":      func(v *assertion.Vote) { v.Assertion[0] ^= 1 },
			"agent":     func(v *assertion.Vote) { v.Agent = assertion.AgentOf(otherKey(1)) },
		} {
			bad := v
			change(&bad)
			err := bad.Verify()
			require.ErrorIs(t, err, assertion.ErrSignature, name)
			assert.Contains(t, err.Error(), "signature: vote does not verify for agent")
		}
	}
}

func TestRetraction_Verify(t *testing.T) {
	key := testKey(t)
	h := mustHash(t, appendixTeslaHash)
	r := assertion.SignRetraction(key, h, 1764000200)
	require.NoError(t, r.Verify())

	// A signature of one act never verifies as another: the prefixes differ.
	asRetract := r
	asRetract.Sig = assertion.SignAssertion(key, h, 1764000200).Sig
	require.ErrorIs(t, asRetract.Verify(), assertion.ErrSignature)

	bad := r
	bad.Timestamp++
	err := bad.Verify()
	require.ErrorIs(t, err, assertion.ErrSignature)
	assert.Contains(t, err.Error(), "signature: retraction does not verify for agent "+r.Agent.String())
}
