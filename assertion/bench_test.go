package assertion_test

import (
	"crypto/ed25519"
	"strconv"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/assertion"
)

func BenchmarkClaim_Hash(b *testing.B) {
	c := teslaClaim(b)
	b.SetBytes(int64(len(c.AppendBytes(nil))))
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Hash()
	}
}

// benchBatch is a batch of n assertions with one signature each, as a typical writer sends.
func benchBatch(b *testing.B, n int) []assertion.Assertion {
	key := testKey(b)
	as := make([]assertion.Assertion, n)
	for i := range as {
		as[i].Claim = teslaClaim(b)
		as[i].Claim.Object.Number = float64(i)
		as[i].Sign(key, 1764000000)
	}
	return as
}

func BenchmarkPayload(b *testing.B) {
	for _, n := range []int{1, 100} {
		as := benchBatch(b, n)
		payload := assertion.AppendAssertRecord(nil, as)
		b.Run("EncodeAssert/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			buf := make([]byte, 0, len(payload))
			for b.Loop() {
				buf = assertion.AppendAssertRecord(buf[:0], as)
			}
		})
		b.Run("DecodeAssert/"+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := assertion.DecodeRecord(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	vote := assertion.AppendVoteRecord(nil, assertion.SignVote(testKey(b), assertion.Hash{1}, 1, 1764000000))
	b.Run("DecodeVote", func(b *testing.B) {
		b.SetBytes(int64(len(vote)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := assertion.DecodeRecord(vote); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignature_Verify(b *testing.B) {
	c := teslaClaim(b)
	h := c.Hash()
	s := assertion.SignAssertion(testKey(b), h, 1764000000)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519_Verify is the bare library call, to show the wrapper's overhead.
func BenchmarkEd25519_Verify(b *testing.B) {
	key := testKey(b)
	msg := assertion.AssertMessage(assertion.Hash{}, 1764000000)
	sig := ed25519.Sign(key, msg)
	pub := key.Public().(ed25519.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkAssertion_Validate(b *testing.B) {
	a := benchBatch(b, 1)[0]
	lim := assertion.DefaultLimits()
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Validate(lim, serverNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseObject(b *testing.B) {
	for _, tt := range []struct{ typ, value string }{
		{"Number", `96.7`},
		{"String", `"Elon Musk"`},
		{"Time", `"2024-01-02T03:04:05.5+01:00"`},
		{"Json", `{"b":[1.0,"x"],"a":true,"nested":{"z":null,"y":[1,2,3]}}`},
	} {
		v := jsontext.Value(tt.value)
		lim := assertion.DefaultLimits()
		b.Run(tt.typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := assertion.ParseObject(tt.typ, v, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
