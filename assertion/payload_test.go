package assertion_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// encodeRecord is the inverse of DecodeRecord, dispatching on the kind.
func encodeRecord(dst []byte, r assertion.Record) []byte {
	switch r.Kind {
	case assertion.KindAssert:
		return assertion.AppendAssertRecord(dst, r.Assertions)
	case assertion.KindVote:
		return assertion.AppendVoteRecord(dst, r.Vote)
	case assertion.KindRetract:
		return assertion.AppendRetractRecord(dst, r.Retraction)
	}
	panic("unknown kind")
}

// sampleRecords covers every kind, every object type and the edges of each field.
func sampleRecords(t testing.TB) map[string]assertion.Record {
	keys := []ed25519.PrivateKey{testKey(t), otherKey(9)}
	k1 := keys[0]
	tc := teslaClaim(t)
	h := tc.Hash()
	// one signs c with the keys at the given indexes.
	one := func(c assertion.Claim, signers ...int) assertion.Assertion {
		a := assertion.Assertion{Claim: c}
		for i, k := range signers {
			a.Sign(keys[k], uint64(1764000000+i))
		}
		return a
	}
	claim := func(o assertion.Object) assertion.Claim {
		return assertion.Claim{Subject: "subject", Predicate: "predicate", Object: o, Confidence: 0.5}
	}
	objects := map[string]assertion.Object{
		"String":    {Type: assertion.TypeString, Text: "Zürich 😀"},
		"String/0":  {Type: assertion.TypeString},
		"Number":    {Type: assertion.TypeNumber, Number: 96.7},
		"Number/-0": {Type: assertion.TypeNumber, Number: math.Copysign(0, -1)},
		"Boolean":   {Type: assertion.TypeBoolean, Bool: true},
		"Entity":    {Type: assertion.TypeEntity, Text: "Elon_Musk"},
		"Time":      {Type: assertion.TypeTime, UnixNano: math.MinInt64},
		"Json":      {Type: assertion.TypeJSON, Text: `{"a":[1,"x"]}`},
		"Json/big":  {Type: assertion.TypeJSON, Text: `"` + strings.Repeat("j", 65534) + `"`},
	}
	recs := map[string]assertion.Record{}
	for name, o := range objects {
		recs["assert/"+name] = assertion.Record{Kind: assertion.KindAssert,
			Assertions: []assertion.Assertion{one(claim(o), 0)}}
	}
	tesla := one(teslaClaim(t), 0, 1)
	tesla.Signatures[1].Timestamp = math.MaxUint64
	tesla.Signatures[0].Timestamp = 0
	recs["assert/batch"] = assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{
		tesla, one(claim(objects["Boolean"]), 0), one(claim(objects["Json"]), 0, 1),
	}}
	for _, v := range []int8{-1, 0, 1} {
		recs["vote/"+string(rune('1'+v))] = assertion.Record{Kind: assertion.KindVote,
			Vote: assertion.SignVote(k1, h, v, 1764000100)}
	}
	recs["vote/zero-timestamp"] = assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{Value: 1}}
	recs["retract"] = assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.SignRetraction(k1, h, 1764000200)}
	recs["retract/max-timestamp"] = assertion.Record{Kind: assertion.KindRetract,
		Retraction: assertion.Retraction{Timestamp: math.MaxUint64}}
	return recs
}

func TestRecord_RoundTrip(t *testing.T) {
	for name, rec := range sampleRecords(t) {
		t.Run(name, func(t *testing.T) {
			payload := encodeRecord([]byte("prefix"), rec)
			require.Equal(t, "prefix", string(payload[:6]), "Append keeps dst")
			payload = payload[6:]

			got, err := assertion.DecodeRecord(payload)
			require.NoError(t, err)
			assert.Equal(t, rec, got)
			for i := range rec.Assertions {
				assert.Equal(t, math.Float64bits(rec.Assertions[i].Claim.Object.Number),
					math.Float64bits(got.Assertions[i].Claim.Object.Number), "Number bits, -0 included")
			}
			assert.Equal(t, payload, encodeRecord(nil, got))

			// Every strict prefix is refused, never a panic (in a long payload, those that
			// cut the framing near either end, and a sample of the text in between).
			for n := 0; n < len(payload); n++ {
				_, err := assertion.DecodeRecord(payload[:n])
				require.ErrorIs(t, err, assertion.ErrMalformed, "prefix of %d bytes", n)
				if n > 512 && n < len(payload)-512 {
					n += 997
				}
			}
			// So is a trailing byte.
			_, err = assertion.DecodeRecord(append(payload[:len(payload):len(payload)], 0))
			require.ErrorIs(t, err, assertion.ErrMalformed)
			assert.Contains(t, err.Error(), "1 trailing bytes")
		})
	}
}

// TestRecord_Bytes pins the format of doc.go with hand-assembled payloads.
func TestRecord_Bytes(t *testing.T) {
	var (
		hash  = strings.Repeat("11", 32)
		agent = strings.Repeat("22", 32)
		sig   = strings.Repeat("33", 64)
		src   = strings.Repeat("44", 32)
	)
	tests := []struct {
		name string
		rec  assertion.Record
		want string
	}{
		{"vote", assertion.Record{Kind: assertion.KindVote, Vote: assertion.Vote{
			Assertion: assertion.Hash(hexBytes(t, hash)), Agent: assertion.AgentID(hexBytes(t, agent)),
			Value: -1, Timestamp: 300, Sig: assertion.Sig(hexBytes(t, sig)),
		}}, "01" + "02" + hash + agent + "ff" + "ac02" + sig},
		{"retract", assertion.Record{Kind: assertion.KindRetract, Retraction: assertion.Retraction{
			Assertion: assertion.Hash(hexBytes(t, hash)), Agent: assertion.AgentID(hexBytes(t, agent)),
			Timestamp: 1764000200, Sig: assertion.Sig(hexBytes(t, sig)),
		}}, "01" + "03" + hash + agent + "c88392c906" + sig},
		{"assert", assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{{
			Claim: assertion.Claim{Subject: "s", Predicate: "pp",
				Object:     assertion.Object{Type: assertion.TypeBoolean, Bool: true},
				Confidence: 1},
			Signatures: []assertion.Signature{{Agent: assertion.AgentID(hexBytes(t, agent)),
				Sig: assertion.Sig(hexBytes(t, sig)), Timestamp: 1}},
		}, {
			Claim: assertion.Claim{Subject: "t", Predicate: "q",
				Object:     assertion.Object{Type: assertion.TypeString, Text: "abc"},
				Confidence: 0.5, Source: assertion.Hash(hexBytes(t, src))},
			Signatures: []assertion.Signature{{Timestamp: 128}},
		}}}, "01" + "01" + "02" +
			"0173" + "027070" + "03" + "01" + "3ff0000000000000" + "00" + "01" + agent + sig + "01" +
			"0174" + "0171" + "01" + "03616263" + "3fe0000000000000" + "01" + src + "01" +
			strings.Repeat("00", 96) + "8001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, hex.EncodeToString(encodeRecord(nil, tt.rec)))
			got, err := assertion.DecodeRecord(hexBytes(t, tt.want))
			require.NoError(t, err)
			assert.Equal(t, tt.rec, got)
		})
	}
}

func TestDecodeRecord_Malformed(t *testing.T) {
	sig := strings.Repeat("33", 96)                       // agent and signature of one signature
	body := "0173" + "0170" + "0301" + "3ff0000000000000" // subject s, predicate p, true, confidence 1
	valid := "0101" + "01" + body + "00" + "01" + sig + "01"
	_, err := assertion.DecodeRecord(hexBytes(t, valid))
	require.NoError(t, err, "the base case is valid")

	tests := []struct {
		name    string
		payload string
		message string
	}{
		{"empty", "", "0 bytes, too short"},
		{"version only", "01", "1 bytes, too short"},
		{"version 0", "0002", "unsupported format version 0 (this build reads 1)"},
		{"version 2", "0202" + strings.Repeat("00", 200), "unsupported format version 2"},
		{"no assertions", "0101" + "00", "assertion count 0"},
		{"count beyond payload", "0101" + "02" + body + "00" + "01" + sig + "01", "assertion count 2 at byte 2: want 1..1"},
		{"huge count", "0101" + "ffffffffffffffff7f" + body, "assertion count"},
		{"varint overflow", "0101" + "ffffffffffffffffff7f" + body, "varint overflows 64 bits"},
		{"non-minimal count", "0101" + "8100" + body + "00" + "01" + sig + "01", "non-minimal varint at byte 2"},
		{"non-minimal length", "0101" + "01" + "810073" + "0170" + "0301" + "3ff0000000000000" + "00" + "01" + sig + "01", "non-minimal varint at byte 3"},
		{"subject past end", "0101" + "01" + "7f73", "assertion count"},
		{"string past end", "0101" + "01" + "0173" + "0170" + "01" + "ff01" + strings.Repeat("00", 120), "String length 255 at byte 8 exceeds the 120 bytes left"},
		{"unknown object tag", "0101" + "01" + "0173" + "0170" + "07" + strings.Repeat("00", 120), "unknown object type tag 7 at byte 7"},
		{"object tag 0", "0101" + "01" + "0173" + "0170" + "00" + strings.Repeat("00", 120), "unknown object type tag 0"},
		{"boolean 2", "0101" + "01" + "0173" + "0170" + "0302" + "3ff0000000000000" + "00" + "01" + sig + "01", "boolean byte 2 at byte 8"},
		{"source flag 2", "0101" + "01" + body + "02" + "01" + sig + "01", "source flag byte 2"},
		{"zero source present", "0101" + "01" + body + "01" + strings.Repeat("00", 32) + "01" + sig + "01", "all-zero source written as present"},
		{"no signatures", "0101" + "01" + body + "00" + "00" + sig + "01", "signature count 0"},
		{"signature count beyond payload", "0101" + "01" + body + "00" + "02" + sig + "01", "signature count 2"},
		{"trailing", valid + "00", "1 trailing bytes after the assert record"},
		{"vote short", "0102" + strings.Repeat("00", 64+1+1+63), "truncated at byte 68"},
		{"vote trailing", "0102" + strings.Repeat("00", 64+1+1+64+1), "trailing"},
		{"retract short", "0103" + strings.Repeat("00", 64), "truncated"},
		{"retract timestamp varint", "0103" + strings.Repeat("00", 64) + "80", "truncated varint at byte 66"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := assertion.DecodeRecord(hexBytes(t, tt.payload))
			require.ErrorIs(t, err, assertion.ErrMalformed)
			assert.Contains(t, err.Error(), tt.message)
			assert.Contains(t, err.Error(), "decode record: ")
		})
	}
}

func TestDecodeRecord_UnknownKind(t *testing.T) {
	for _, k := range []byte{0, 4, 255} {
		rec, err := assertion.DecodeRecord([]byte{1, k, 1, 2, 3})
		require.ErrorIs(t, err, assertion.ErrUnknownKind)
		assert.NotErrorIs(t, err, assertion.ErrMalformed)
		assert.Equal(t, assertion.Kind(k), rec.Kind, "the kind comes back, so the caller can dispatch")
	}
	assert.Equal(t, "assert", assertion.KindAssert.String())
	assert.Equal(t, "vote", assertion.KindVote.String())
	assert.Equal(t, "retract", assertion.KindRetract.String())
	assert.Equal(t, "Kind(9)", assertion.Kind(9).String())
}

func TestDecodeRecord_SignaturesDoNotAlias(t *testing.T) {
	rec := sampleRecords(t)["assert/batch"]
	got, err := assertion.DecodeRecord(encodeRecord(nil, rec))
	require.NoError(t, err)
	first := got.Assertions[0].Signatures
	second := append([]assertion.Signature(nil), got.Assertions[1].Signatures...)
	_ = append(first, assertion.Signature{Timestamp: 42})
	assert.Equal(t, second, got.Assertions[1].Signatures, "appending to one assertion's signatures leaves the next alone")
}

// TestDecodeRecord_Allocations checks that a lying count costs nothing and that a valid
// record's allocations stay small: one copy of the text, the assertions, the signatures.
func TestDecodeRecord_Allocations(t *testing.T) {
	for _, lying := range []string{
		"0101" + "ffffffffffffffff7f" + strings.Repeat("00", 200),                     // assertions
		"0101" + "01" + "0173" + "0170" + "0301" + "3ff0000000000000" + "00" + "ff7f", // signatures
		"0101" + "01" + "ffffff7f" + strings.Repeat("00", 200),                        // subject length
	} {
		payload := hexBytes(t, lying)
		n := allocatedBytes(func() { _, _ = assertion.DecodeRecord(payload) })
		assert.Less(t, n, uint64(1024), "%s: only the error is allocated", lying)
	}

	batch := encodeRecord(nil, sampleRecords(t)["assert/batch"])
	allocs := testing.AllocsPerRun(10, func() { _, _ = assertion.DecodeRecord(batch) })
	assert.LessOrEqual(t, allocs, 4.0)

	vote := encodeRecord(nil, sampleRecords(t)["vote/1"])
	allocs = testing.AllocsPerRun(10, func() { _, _ = assertion.DecodeRecord(vote) })
	assert.Zero(t, allocs)
}

// allocatedBytes returns the bytes f allocates on the heap, as an average over runs.
func allocatedBytes(f func()) uint64 {
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}
