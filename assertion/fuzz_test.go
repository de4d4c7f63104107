package assertion_test

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

// FuzzDecodeRecord: DecodeRecord never panics, and whatever it accepts encodes back to the
// very same bytes (the encoding is canonical), with signature slices that cannot alias.
func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range sampleRecords(f) {
		f.Add(encodeRecord(nil, rec))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0})
	f.Add([]byte{1, 4, 0})
	f.Add([]byte{2, 1})
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec, err := assertion.DecodeRecord(payload)
		if err != nil {
			return
		}
		require.Equal(t, payload, encodeRecord(nil, rec))
		for _, a := range rec.Assertions {
			require.NotEmpty(t, a.Signatures)
			require.Equal(t, len(a.Signatures), cap(a.Signatures))
		}
	})
}

// FuzzParseObject: ParseObject never panics; what it accepts is a valid object, and the
// value an answer would write for it parses back to the same object. For Json that means
// the stored text is canonical and reparses to itself; for Time, that the instant survives
// the trip through its UTC text.
func FuzzParseObject(f *testing.F) {
	seeds := []struct{ typ, value string }{
		{"String", `"Paris"`}, {"String", `"\ud83d\ude00\u0000"`}, {"String", "\"\xff\""}, {"String", `"\ud800"`},
		{"Number", `96.7`}, {"Number", `-0`}, {"Number", `1e400`}, {"Number", `1E-400`}, {"Number", `9007199254740993`},
		{"Boolean", `true`}, {"Boolean", ` false `},
		{"Entity", `"Elon_Musk"`}, {"Entity", `""`},
		{"Time", `"2024-01-02T03:04:05.5+01:00"`}, {"Time", `"2262-04-11T23:47:16.854775807Z"`},
		{"Time", `"1677-09-21t00:12:43.145224192z"`}, {"Time", `"2016-12-31T23:59:60Z"`},
		{"Json", `{"b":[1.0,"x"],"a":true}`},
		{"Json", `{"a":[1e21,-0,9007199254740993,0.1,1.5e-7],"\u20ac":1,"\ue000":2,"\ud83d\ude00":3}`},
		{"Json", `{"a":1,"a":2}`}, {"Json", `[1e400]`}, {"Json", `[1.7976931348623157e308]`}, {"Json", `null`},
		{"number", `1`},
	}
	for _, s := range seeds {
		f.Add(s.typ, []byte(s.value))
	}
	lim := assertion.DefaultLimits()
	f.Fuzz(func(t *testing.T, typ string, value []byte) {
		o, err := assertion.ParseObject(typ, value, lim)
		if err != nil {
			require.ErrorIs(t, err, assertion.ErrInvalid)
			return
		}
		require.NoError(t, o.Validate(lim))
		require.Equal(t, typ, o.TypeName())

		out := o.AppendJSONValue(nil)
		require.True(t, jsontext.Value(out).IsValid(), "answer value %q is not valid JSON", out)
		back, err := assertion.ParseObject(typ, out, lim)
		require.NoError(t, err, "answer value %q", out)
		require.True(t, o.Equal(back), "%+v became %q, then %+v", o, out, back)
		require.True(t, bytes.Equal(o.AppendValueBytes(nil), back.AppendValueBytes(nil)))
		if o.Type == assertion.TypeJSON {
			require.Equal(t, o.Text, back.Text)
		}
	})
}
