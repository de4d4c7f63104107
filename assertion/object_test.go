package assertion_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

func TestParseObject_Valid(t *testing.T) {
	tests := []struct {
		name  string
		typ   string
		value string
		want  assertion.Object
		out   string // AppendJSONValue
	}{
		{"String", "String", `"Paris"`, assertion.Object{Type: assertion.TypeString, Text: "Paris"}, `"Paris"`},
		{"String/empty", "String", `""`, assertion.Object{Type: assertion.TypeString}, `""`},
		{"String/escapes", "String", `"a\"\\\/\u00e9\ud83d\ude00\n"`,
			assertion.Object{Type: assertion.TypeString, Text: "a\"\\/é😀\n"}, `"a\"\\/é😀\n"`},
		{"String/NUL", "String", `"\u0000"`, assertion.Object{Type: assertion.TypeString, Text: "\x00"}, `"\u0000"`},
		{"String/whitespace-around", "String", " \t\r\n\"x\"\n", assertion.Object{Type: assertion.TypeString, Text: "x"}, `"x"`},
		{"Number", "Number", `96.7`, assertion.Object{Type: assertion.TypeNumber, Number: 96.7}, `96.7`},
		{"Number/int", "Number", `42`, assertion.Object{Type: assertion.TypeNumber, Number: 42}, `42`},
		{"Number/exp", "Number", `1E+21`, assertion.Object{Type: assertion.TypeNumber, Number: 1e21}, `1e+21`},
		{"Number/small", "Number", `0.00000015`, assertion.Object{Type: assertion.TypeNumber, Number: 1.5e-7}, `1.5e-7`},
		{"Number/-0", "Number", `-0`, assertion.Object{Type: assertion.TypeNumber}, `0`},
		{"Number/-0.0e5", "Number", `-0.0e5`, assertion.Object{Type: assertion.TypeNumber}, `0`},
		{"Number/underflow", "Number", `1e-400`, assertion.Object{Type: assertion.TypeNumber}, `0`},
		{"Number/-underflow", "Number", `-1e-400`, assertion.Object{Type: assertion.TypeNumber}, `0`},
		{"Number/2^53+1", "Number", `9007199254740993`, assertion.Object{Type: assertion.TypeNumber, Number: 9007199254740992}, `9007199254740992`},
		{"Number/max", "Number", `1.7976931348623157e308`, assertion.Object{Type: assertion.TypeNumber, Number: math.MaxFloat64}, `1.7976931348623157e+308`},
		{"Number/negative", "Number", `-3.25`, assertion.Object{Type: assertion.TypeNumber, Number: -3.25}, `-3.25`},
		{"Boolean/true", "Boolean", `true`, assertion.Object{Type: assertion.TypeBoolean, Bool: true}, `true`},
		{"Boolean/false", "Boolean", ` false `, assertion.Object{Type: assertion.TypeBoolean}, `false`},
		{"Entity", "Entity", `"Elon_Musk"`, assertion.Object{Type: assertion.TypeEntity, Text: "Elon_Musk"}, `"Elon_Musk"`},
		{"Entity/1024", "Entity", `"` + strings.Repeat("e", 1024) + `"`,
			assertion.Object{Type: assertion.TypeEntity, Text: strings.Repeat("e", 1024)}, `"` + strings.Repeat("e", 1024) + `"`},
		{"Time", "Time", `"2024-01-02T04:04:05.50+01:00"`,
			assertion.Object{Type: assertion.TypeTime, UnixNano: 1704164645500000000}, `"2024-01-02T03:04:05.5Z"`},
		{"Time/escaped", "Time", `"2024-01-02T03:04:05\u005a"`,
			assertion.Object{Type: assertion.TypeTime, UnixNano: 1704164645000000000}, `"2024-01-02T03:04:05Z"`},
		{"Json/object", "Json", `{"b":[1.0,"x"],"a":true}`,
			assertion.Object{Type: assertion.TypeJSON, Text: `{"a":true,"b":[1,"x"]}`}, `{"a":true,"b":[1,"x"]}`},
		{"Json/null", "Json", `null`, assertion.Object{Type: assertion.TypeJSON, Text: `null`}, `null`},
		{"Json/string", "Json", ` "\u00e9" `, assertion.Object{Type: assertion.TypeJSON, Text: `"é"`}, `"é"`},
		{"Json/number", "Json", `-0.0`, assertion.Object{Type: assertion.TypeJSON, Text: `0`}, `0`},
		{"Json/max-double", "Json", `[1.7976931348623157e308]`,
			assertion.Object{Type: assertion.TypeJSON, Text: `[1.7976931348623157e+308]`}, `[1.7976931348623157e+308]`},
		{"Json/nested-whitespace", "Json", "{ \"k\" : [ 1 , { } , [ ] ] }",
			assertion.Object{Type: assertion.TypeJSON, Text: `{"k":[1,{},[]]}`}, `{"k":[1,{},[]]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := assertion.ParseObject(tt.typ, jsontext.Value(tt.value), assertion.DefaultLimits())
			require.NoError(t, err)
			assert.Equal(t, tt.want, o)
			assert.Equal(t, math.Signbit(tt.want.Number), math.Signbit(o.Number), "sign of zero")
			assert.Equal(t, tt.out, string(o.AppendJSONValue(nil)))
			assert.Equal(t, tt.typ, o.TypeName())
			require.NoError(t, o.Validate(assertion.DefaultLimits()))

			// What an answer writes reads back as the same object.
			back, err := assertion.ParseObject(tt.typ, o.AppendJSONValue(nil), assertion.DefaultLimits())
			require.NoError(t, err)
			assert.True(t, o.Equal(back))
		})
	}
}

func TestParseObject_Invalid(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		value    string
		jsonType bool   // the error also matches ErrJSONType
		message  string // a part of the error message
	}{
		{"type/unknown", "Float", `1`, false, `object.type: unknown type "Float"`},
		{"type/case", "number", `1`, false, `object.type: unknown type "number"`},
		{"type/JSON", "JSON", `1`, false, `object.type`},
		{"type/empty", "", `1`, false, `object.type`},
		{"value/missing", "String", ``, false, "object.value: missing"},
		{"value/blank", "Number", " \n", false, "object.value: missing"},
		{"String/number", "String", `1`, true, "object.value: type String needs a JSON string"},
		{"String/null", "String", `null`, true, "needs a JSON string"},
		{"String/invalid-utf8", "String", "\"a\xffb\"", false, "object.value: invalid UTF-8"},
		{"String/lone-surrogate", "String", `"\ud800"`, false, "object.value: invalid surrogate"},
		{"String/lone-low-surrogate", "String", `"\udc00x"`, false, "object.value: invalid surrogate"},
		{"String/bad-escape", "String", `"\x"`, false, "object.value"},
		{"String/unterminated", "String", `"abc`, false, "object.value"},
		{"String/trailing", "String", `"a" "b"`, false, "object.value"},
		{"String/raw-control", "String", "\"a\tb\"", false, "object.value"},
		{"Entity/empty", "Entity", `""`, false, "object.value: an Entity names a subject, so it must be 1..1024 bytes, got 0"},
		{"Entity/long", "Entity", `"` + strings.Repeat("e", 1025) + `"`, false, "got 1025"},
		{"Entity/number", "Entity", `7`, true, "type Entity needs a JSON string"},
		{"Number/string", "Number", `"96.7"`, true, "object.value: type Number needs a JSON number"},
		{"Number/bool", "Number", `true`, true, "needs a JSON number"},
		{"Number/overflow", "Number", `1e400`, false, "object.value: 1e400 is outside the range of a double"},
		{"Number/-overflow", "Number", `-1e400`, false, "outside the range"},
		{"Number/hex", "Number", `0x10`, false, "not a valid JSON number"},
		{"Number/leading-zero", "Number", `01`, false, "not a valid JSON number"},
		{"Number/plus", "Number", `+1`, true, "needs a JSON number"},
		{"Number/dot", "Number", `.5`, true, "needs a JSON number"},
		{"Number/trailing-dot", "Number", `1.`, false, "not a valid JSON number"},
		{"Number/NaN", "Number", `NaN`, true, "needs a JSON number"},
		{"Number/Infinity", "Number", `-Infinity`, false, "not a valid JSON number"},
		{"Number/underscore", "Number", `1_000`, false, "not a valid JSON number"},
		{"Number/two", "Number", `1 2`, false, "not a valid JSON number"},
		{"Boolean/string", "Boolean", `"true"`, true, "object.value: type Boolean needs true or false"},
		{"Boolean/number", "Boolean", `1`, true, "needs true or false"},
		{"Boolean/True", "Boolean", `True`, true, "needs true or false"},
		{"Time/number", "Time", `1704164645`, true, "type Time needs a JSON string"},
		{"Time/leap-second", "Time", `"2016-12-31T23:59:60Z"`, false, "object.value: second 60 out of range"},
		{"Time/no-zone", "Time", `"2024-01-02T03:04:05"`, false, "object.value: want an RFC 3339"},
		{"Time/out-of-range", "Time", `"2263-01-01T00:00:00Z"`, false, "object.value: out of range"},
		{"Time/lone-surrogate", "Time", `"\udc00"`, false, "invalid surrogate"},
		{"Json/duplicate-key", "Json", `{"a":1,"a":2}`, false, "object.value: not valid JSON: duplicate object member name"},
		{"Json/nested-duplicate", "Json", `[{"x":{"a":1,"a":1}}]`, false, "duplicate"},
		{"Json/escaped-duplicate", "Json", `{"a":1,"\u0061":2}`, false, "duplicate"},
		{"Json/invalid-utf8", "Json", "[\"\xc3\x28\"]", false, "invalid UTF-8"},
		{"Json/lone-surrogate", "Json", `{"\ud800":1}`, false, "surrogate"},
		{"Json/overflow", "Json", `{"a":[1,1e400]}`, false, "object.value: number 1e400 is outside the range of a double"},
		{"Json/-overflow", "Json", `-1e309`, false, "outside the range"},
		{"Json/syntax", "Json", `{"a":}`, false, "object.value: not valid JSON"},
		{"Json/two-values", "Json", `1 2`, false, "not valid JSON"},
		{"Json/NaN", "Json", `NaN`, false, "not valid JSON"},
		{"Json/trailing-comma", "Json", `[1,]`, false, "not valid JSON"},
		{"Json/too-long", "Json", `"` + strings.Repeat("a", 64<<10-1) + `"`, false,
			"object.value: canonical JSON is 65537 bytes, over the limit of 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := assertion.ParseObject(tt.typ, jsontext.Value(tt.value), assertion.DefaultLimits())
			require.Error(t, err)
			assert.ErrorIs(t, err, assertion.ErrInvalid)
			assert.False(t, errors.Is(err, assertion.ErrSignature))
			assert.Equal(t, tt.jsonType, errors.Is(err, assertion.ErrJSONType), "matches ErrJSONType")
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestParseObject_JSONLimit(t *testing.T) {
	lim := assertion.DefaultLimits()
	lim.MaxJSON = 11
	// Whitespace does not count: the limit is on the canonical text.
	o, err := assertion.ParseObject("Json", jsontext.Value(`[ 1 , 2 , 3 , 4 , 5 ]`), lim)
	require.NoError(t, err)
	assert.Equal(t, `[1,2,3,4,5]`, o.Text)
	_, err = assertion.ParseObject("Json", jsontext.Value(`[1,2,3,4,5,6]`), lim)
	assert.ErrorIs(t, err, assertion.ErrInvalid)

	exact := `"` + strings.Repeat("a", 64<<10-2) + `"`
	o, err = assertion.ParseObject("Json", jsontext.Value(exact), assertion.DefaultLimits())
	require.NoError(t, err)
	assert.Len(t, o.Text, 64<<10)
}

func TestParseObject_DoesNotModifyInput(t *testing.T) {
	in := []byte(`{"b":1, "a":2}`)
	_, err := assertion.ParseObject("Json", in, assertion.DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, `{"b":1, "a":2}`, string(in))
}

func TestObject_Validate(t *testing.T) {
	lim := assertion.DefaultLimits()
	tests := []struct {
		name string
		o    assertion.Object
		msg  string // "" when valid
	}{
		{"String", assertion.Object{Type: assertion.TypeString, Text: "x"}, ""},
		{"String/invalid-utf8", assertion.Object{Type: assertion.TypeString, Text: "\xff"}, "object.value: not valid UTF-8"},
		{"Entity/empty", assertion.Object{Type: assertion.TypeEntity}, "object.value: an Entity"},
		{"Entity/invalid-utf8", assertion.Object{Type: assertion.TypeEntity, Text: "\xff"}, "not valid UTF-8"},
		{"Number/-0", assertion.Object{Type: assertion.TypeNumber, Number: math.Copysign(0, -1)}, ""},
		{"Number/NaN", assertion.Object{Type: assertion.TypeNumber, Number: math.NaN()}, "object.value: a Number must be finite"},
		{"Number/Inf", assertion.Object{Type: assertion.TypeNumber, Number: math.Inf(-1)}, "must be finite"},
		{"Boolean", assertion.Object{Type: assertion.TypeBoolean, Bool: true}, ""},
		{"Time/min", assertion.Object{Type: assertion.TypeTime, UnixNano: math.MinInt64}, ""},
		{"Json", assertion.Object{Type: assertion.TypeJSON, Text: `{"a":1}`}, ""},
		{"Json/not-canonical", assertion.Object{Type: assertion.TypeJSON, Text: `{"a": 1}`}, "object.value: not in RFC 8785 canonical form"},
		{"Json/order", assertion.Object{Type: assertion.TypeJSON, Text: `{"b":1,"a":1}`}, "canonical form"},
		{"Json/empty", assertion.Object{Type: assertion.TypeJSON}, "object.value: not valid JSON"},
		{"Json/duplicate", assertion.Object{Type: assertion.TypeJSON, Text: `{"a":1,"a":1}`}, "duplicate"},
		{"type/zero", assertion.Object{}, "object.type: unknown type tag 0"},
		{"type/7", assertion.Object{Type: 7}, "object.type: unknown type tag 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate(lim)
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, assertion.ErrInvalid)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestObject_Output(t *testing.T) {
	tests := []struct {
		name string
		o    assertion.Object
		json string
		sql  any
	}{
		{"String", assertion.Object{Type: assertion.TypeString, Text: "a\"b<>&\u2028"}, `{"type":"String","value":"a\"b<>&` + "\u2028" + `"}`, "a\"b<>&\u2028"},
		{"Number", assertion.Object{Type: assertion.TypeNumber, Number: 96.7}, `{"type":"Number","value":96.7}`, 96.7},
		{"Number/-0", assertion.Object{Type: assertion.TypeNumber, Number: math.Copysign(0, -1)}, `{"type":"Number","value":0}`, 0.0},
		{"Number/big", assertion.Object{Type: assertion.TypeNumber, Number: 1e21}, `{"type":"Number","value":1e+21}`, 1e21},
		{"Number/int", assertion.Object{Type: assertion.TypeNumber, Number: 1e20}, `{"type":"Number","value":100000000000000000000}`, 1e20},
		{"Boolean/true", assertion.Object{Type: assertion.TypeBoolean, Bool: true}, `{"type":"Boolean","value":true}`, int64(1)},
		{"Boolean/false", assertion.Object{Type: assertion.TypeBoolean}, `{"type":"Boolean","value":false}`, int64(0)},
		{"Entity", assertion.Object{Type: assertion.TypeEntity, Text: "X"}, `{"type":"Entity","value":"X"}`, "X"},
		{"Time", assertion.Object{Type: assertion.TypeTime, UnixNano: 1704164645500000000}, `{"type":"Time","value":"2024-01-02T03:04:05.5Z"}`, "2024-01-02T03:04:05.5Z"},
		{"Json", assertion.Object{Type: assertion.TypeJSON, Text: `{"a":[1,"x"]}`}, `{"type":"Json","value":{"a":[1,"x"]}}`, `{"a":[1,"x"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.o.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, tt.json, string(b))
			assert.True(t, jsontext.Value(b).IsValid())
			got := tt.o.SQLValue()
			assert.Equal(t, tt.sql, got)
			if f, ok := got.(float64); ok {
				assert.False(t, math.Signbit(f), "SQL Number -0 must be stored as 0")
			}
		})
	}
}

func TestObjectType_String(t *testing.T) {
	names := []string{"String", "Number", "Boolean", "Entity", "Time", "Json"}
	for i, name := range names {
		typ := assertion.ObjectType(i + 1)
		assert.Equal(t, name, typ.String())
		got, err := assertion.ParseObjectType(name)
		require.NoError(t, err)
		assert.Equal(t, typ, got)
	}
	assert.Equal(t, "ObjectType(0)", assertion.ObjectType(0).String())
	assert.Equal(t, "ObjectType(7)", assertion.ObjectType(7).String())
}

func TestObject_Equal(t *testing.T) {
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name string
		a, b assertion.Object
		want bool
	}{
		{"Number/zeros", assertion.Object{Type: assertion.TypeNumber}, assertion.Object{Type: assertion.TypeNumber, Number: negZero}, true},
		{"Number/differ", assertion.Object{Type: assertion.TypeNumber, Number: 1}, assertion.Object{Type: assertion.TypeNumber, Number: 2}, false},
		{"String-vs-Entity", assertion.Object{Type: assertion.TypeString, Text: "x"}, assertion.Object{Type: assertion.TypeEntity, Text: "x"}, false},
		{"String/ignores-other-fields", assertion.Object{Type: assertion.TypeString, Text: "x", Number: 1}, assertion.Object{Type: assertion.TypeString, Text: "x"}, true},
		{"Boolean", assertion.Object{Type: assertion.TypeBoolean, Bool: true}, assertion.Object{Type: assertion.TypeBoolean}, false},
		{"Time", assertion.Object{Type: assertion.TypeTime, UnixNano: 5}, assertion.Object{Type: assertion.TypeTime, UnixNano: 5}, true},
		{"Json", assertion.Object{Type: assertion.TypeJSON, Text: "1"}, assertion.Object{Type: assertion.TypeJSON, Text: "2"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.Equal(tt.b))
			// Equal agrees with the value bytes, which is what lenses compare.
			assert.Equal(t, tt.want, string(tt.a.AppendValueBytes(nil)) == string(tt.b.AppendValueBytes(nil)))
		})
	}
}
