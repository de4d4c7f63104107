package assertion_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// serverNow is the server clock in validation tests: the appendix timestamp.
var serverNow = time.Unix(1764000000, 0)

func TestAssertion_Validate(t *testing.T) {
	valid := func() assertion.Assertion {
		a := assertion.Assertion{Claim: teslaClaim(t)}
		a.Sign(testKey(t), 1764000000)
		a.Sign(otherKey(1), 1)
		return a
	}
	withSigs := func(n int) func(*assertion.Assertion) {
		return func(a *assertion.Assertion) {
			a.Signatures = nil
			for i := range n {
				a.Signatures = append(a.Signatures, assertion.Signature{Agent: assertion.AgentID{byte(i), byte(i >> 8)}})
			}
		}
	}
	tests := []struct {
		name    string
		with    func(*assertion.Assertion)
		lim     func(*assertion.Limits)
		message string // "" when valid
	}{
		{"valid", nil, nil, ""},
		{"subject/empty", func(a *assertion.Assertion) { a.Claim.Subject = "" }, nil, "subject: must be 1..1024 bytes, got 0"},
		{"subject/1024", func(a *assertion.Assertion) { a.Claim.Subject = strings.Repeat("s", 1024) }, nil, ""},
		{"subject/1025", func(a *assertion.Assertion) { a.Claim.Subject = strings.Repeat("s", 1025) }, nil, "subject: must be 1..1024 bytes, got 1025"},
		{"subject/multibyte-1024", func(a *assertion.Assertion) { a.Claim.Subject = strings.Repeat("é", 512) }, nil, ""},
		{"subject/multibyte-1026", func(a *assertion.Assertion) { a.Claim.Subject = strings.Repeat("é", 513) }, nil, "subject: must be 1..1024 bytes, got 1026"},
		{"subject/invalid-utf8", func(a *assertion.Assertion) { a.Claim.Subject = "a\xffb" }, nil, "subject: not valid UTF-8"},
		{"subject/surrogate-utf8", func(a *assertion.Assertion) { a.Claim.Subject = "\xed\xa0\x80" }, nil, "subject: not valid UTF-8"},
		{"subject/limit-flag", func(a *assertion.Assertion) { a.Claim.Subject = "abcd" }, func(l *assertion.Limits) { l.MaxSubject = 3 }, "subject: must be 1..3 bytes, got 4"},
		{"predicate/empty", func(a *assertion.Assertion) { a.Claim.Predicate = "" }, nil, "predicate: must be 1..1024 bytes, got 0"},
		{"predicate/1025", func(a *assertion.Assertion) { a.Claim.Predicate = strings.Repeat("p", 1025) }, nil, "predicate: must be 1..1024"},
		{"predicate/invalid-utf8", func(a *assertion.Assertion) { a.Claim.Predicate = "\xc0\x80" }, nil, "predicate: not valid UTF-8"},
		{"object/type", func(a *assertion.Assertion) { a.Claim.Object.Type = 0 }, nil, "object.type: unknown type tag 0"},
		{"object/NaN", func(a *assertion.Assertion) { a.Claim.Object.Number = math.NaN() }, nil, "object.value: a Number must be finite"},
		{"object/Json", func(a *assertion.Assertion) {
			a.Claim.Object = assertion.Object{Type: assertion.TypeJSON, Text: "[1, 2]"}
		}, nil, "object.value: not in RFC 8785 canonical form"},
		{"confidence/0", func(a *assertion.Assertion) { a.Claim.Confidence = 0 }, nil, ""},
		{"confidence/-0", func(a *assertion.Assertion) { a.Claim.Confidence = math.Copysign(0, -1) }, nil, ""},
		{"confidence/1", func(a *assertion.Assertion) { a.Claim.Confidence = 1 }, nil, ""},
		{"confidence/negative", func(a *assertion.Assertion) { a.Claim.Confidence = -0.01 }, nil, "confidence: must be a number in [0, 1], got -0.01"},
		{"confidence/above-1", func(a *assertion.Assertion) { a.Claim.Confidence = math.Nextafter(1, 2) }, nil, "confidence: must be a number in [0, 1]"},
		{"confidence/NaN", func(a *assertion.Assertion) { a.Claim.Confidence = math.NaN() }, nil, "confidence: must be a number in [0, 1], got NaN"},
		{"confidence/Inf", func(a *assertion.Assertion) { a.Claim.Confidence = math.Inf(1) }, nil, "confidence"},
		{"signatures/none", withSigs(0), nil, "signatures: want 1..32 signatures, got 0"},
		{"signatures/32", withSigs(32), nil, ""},
		{"signatures/33", withSigs(33), nil, "signatures: want 1..32 signatures, got 33"},
		{"signatures/limit-flag", withSigs(3), func(l *assertion.Limits) { l.MaxSignatures = 2 }, "signatures: want 1..2 signatures, got 3"},
		{"signatures/duplicate-agent", func(a *assertion.Assertion) {
			a.Signatures = append(a.Signatures, a.Signatures[0])
			a.Signatures[2].Timestamp = 5
		}, nil, "signatures[2].agent_id: agent d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a already signed at signatures[0]"},
		{"timestamp/at-skew", func(a *assertion.Assertion) { a.Signatures[1].Timestamp = 1764000300 }, nil, ""},
		{"timestamp/past-skew", func(a *assertion.Assertion) { a.Signatures[1].Timestamp = 1764000301 }, nil,
			"signatures[1].timestamp: 1764000301 is more than 5m0s in the future (server time 1764000000)"},
		{"timestamp/max", func(a *assertion.Assertion) { a.Signatures[0].Timestamp = math.MaxUint64 }, nil, "signatures[0].timestamp"},
		{"timestamp/zero-skew", func(a *assertion.Assertion) { a.Signatures[0].Timestamp = 1764000001 }, func(l *assertion.Limits) { l.MaxFutureSkew = 0 }, "signatures[0].timestamp"},
		{"timestamp/zero", func(a *assertion.Assertion) { a.Signatures[0].Timestamp = 0 }, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			if tt.with != nil {
				tt.with(&a)
			}
			lim := assertion.DefaultLimits()
			if tt.lim != nil {
				tt.lim(&lim)
			}
			err := a.Validate(lim, serverNow)
			if tt.message == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, assertion.ErrInvalid)
			assert.NotErrorIs(t, err, assertion.ErrSignature)
			assert.Equal(t, tt.message, err.Error()[:min(len(tt.message), len(err.Error()))])
		})
	}
}

func TestVote_Validate(t *testing.T) {
	for v := -128; v <= 127; v++ {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			vote := assertion.Vote{Value: int8(v), Timestamp: 1764000000}
			err := vote.Validate(assertion.DefaultLimits(), serverNow)
			if v >= -1 && v <= 1 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, assertion.ErrInvalid)
			assert.Equal(t, fmt.Sprintf("vote: must be -1, 0 or 1, got %d", v), err.Error())
		})
	}
	vote := assertion.Vote{Value: 1, Timestamp: 1764000301}
	err := vote.Validate(assertion.DefaultLimits(), serverNow)
	require.ErrorIs(t, err, assertion.ErrInvalid)
	assert.Contains(t, err.Error(), "timestamp: 1764000301 is more than 5m0s in the future")
}

func TestRetraction_Validate(t *testing.T) {
	r := assertion.Retraction{Timestamp: 1764000300}
	require.NoError(t, r.Validate(assertion.DefaultLimits(), serverNow))
	r.Timestamp++
	err := r.Validate(assertion.DefaultLimits(), serverNow)
	require.ErrorIs(t, err, assertion.ErrInvalid)
	assert.Contains(t, err.Error(), "timestamp:")

	// A clock before 1970 leaves no valid timestamp rather than wrapping around.
	r.Timestamp = 0
	require.Error(t, r.Validate(assertion.DefaultLimits(), time.Unix(-1000, 0)))
}

func TestDefaultLimits(t *testing.T) {
	assert.Equal(t, assertion.Limits{
		MaxSubject:    1024,
		MaxPredicate:  1024,
		MaxSignatures: 32,
		MaxJSON:       65536,
		MaxFutureSkew: 300 * time.Second,
	}, assertion.DefaultLimits())
}
