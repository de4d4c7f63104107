package assertion

import (
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// String returns the type's API name (API.md §1.1, e.g. "Number"), or "ObjectType(n)"
// for an unknown tag.
func (t ObjectType) String() string {
	switch t {
	case TypeString:
		return "String"
	case TypeNumber:
		return "Number"
	case TypeBoolean:
		return "Boolean"
	case TypeEntity:
		return "Entity"
	case TypeTime:
		return "Time"
	case TypeJSON:
		return "Json"
	}
	return "ObjectType(" + strconv.Itoa(int(t)) + ")"
}

// ParseObjectType maps an API type name to its ObjectType. Names are case-sensitive
// (API.md §1.1): "number" is refused, with an error matching ErrInvalid.
func ParseObjectType(name string) (ObjectType, error) {
	for t := TypeString; t <= TypeJSON; t++ {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, invalidf("object.type: unknown type %q; want String, Number, Boolean, Entity, Time or Json "+
		"(case-sensitive)", clip(name))
}

// TypeName returns the object's API type name, as answers write it in "object.type".
func (o Object) TypeName() string { return o.Type.String() }

// ParseObject builds an Object from a request's "object": its type name and its raw JSON
// value (surrounding JSON whitespace allowed). It applies the rules of API.md §1.1:
//
//   - String: a JSON string. Entity: a non-empty JSON string of at most lim.MaxSubject bytes.
//   - Number: a finite JSON number, read as the nearest double; -0 is stored as +0.
//   - Boolean: true or false.
//   - Time: an RFC 3339 string (see the package doc), stored as Unix nanoseconds.
//   - Json: any JSON value, stored as RFC 8785 canonical text of at most lim.MaxJSON bytes.
//
// Strings must be valid Unicode, and a Json value must not repeat a key in one object.
// Errors name the field ("object.value: ...") and match ErrInvalid; those where the value
// has the wrong JSON type for the object type also match ErrJSONType.
func ParseObject(typ string, value jsontext.Value, lim Limits) (Object, error) {
	t, err := ParseObjectType(typ)
	if err != nil {
		return Object{}, err
	}
	o := Object{Type: t}
	v := trimJSONSpace(value)
	if len(v) == 0 {
		return Object{}, invalidf("object.value: missing")
	}
	switch t {
	case TypeString:
		if o.Text, err = jsonString(v, t); err != nil {
			return Object{}, err
		}
	case TypeEntity:
		if o.Text, err = jsonString(v, t); err != nil {
			return Object{}, err
		}
		if err := checkEntity(len(o.Text), lim); err != nil {
			return Object{}, err
		}
	case TypeTime:
		s, err := jsonString(v, t)
		if err != nil {
			return Object{}, err
		}
		if o.UnixNano, err = parseTime(s); err != nil {
			return Object{}, within("object.value: ", err)
		}
	case TypeNumber:
		if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
			return Object{}, jsonTypef("object.value: type Number needs a JSON number")
		}
		if !v.IsValid() {
			return Object{}, invalidf("object.value: not a valid JSON number")
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil { // the grammar is checked, so only overflow is left
			return Object{}, invalidf("object.value: %s is outside the range of a double", clip(string(v)))
		}
		o.Number = f + 0 // folds -0 into +0
	case TypeBoolean:
		switch string(v) {
		case "true":
			o.Bool = true
		case "false":
		default:
			return Object{}, jsonTypef("object.value: type Boolean needs true or false")
		}
	case TypeJSON:
		s, err := canonicalJSON(v, lim.MaxJSON)
		if err != nil {
			return Object{}, within("object.value: ", err)
		}
		o.Text = s
	}
	return o, nil
}

// jsonString reads the value of a string-typed object; jsontext refuses invalid UTF-8 and
// lone surrogate escapes.
func jsonString(v jsontext.Value, t ObjectType) (string, error) {
	if v[0] != '"' {
		return "", jsonTypef("object.value: type %s needs a JSON string", t)
	}
	b, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return "", invalidf("object.value: %s", jsonErrText(err))
	}
	return string(b), nil
}

func checkEntity(n int, lim Limits) error {
	if n == 0 || n > lim.MaxSubject {
		return invalidf("object.value: an Entity names a subject, so it must be 1..%d bytes, got %d",
			lim.MaxSubject, n)
	}
	return nil
}

// AppendJSONValue appends the object's "value" as answers write it (API.md §4): strings
// JSON-quoted, Number as the shortest decimal that reads back to the same double (the
// ECMAScript form that RFC 8785 uses, so 1e21 is "1e+21" and -0 is "0"), Boolean as
// true/false, Time as a string in UTC in time.RFC3339Nano form, Json as its canonical text.
func (o Object) AppendJSONValue(dst []byte) []byte {
	switch o.Type {
	case TypeString, TypeEntity:
		// Validated text is valid UTF-8; for any other, jsontext writes U+FFFD and reports
		// an error that is of no use here, since the output is still a valid JSON string.
		dst, _ = jsontext.AppendQuote(dst, o.Text)
	case TypeNumber:
		dst = jsontext.AppendFloat(dst, o.Number+0, 64)
	case TypeBoolean:
		dst = strconv.AppendBool(dst, o.Bool)
	case TypeTime:
		dst = append(dst, '"')
		dst = appendTime(dst, o.UnixNano)
		dst = append(dst, '"')
	case TypeJSON:
		dst = append(dst, o.Text...)
	default:
		dst = append(dst, "null"...)
	}
	return dst
}

// MarshalJSON writes the object as answers do: {"type":"Number","value":96.7}.
// There is no UnmarshalJSON, since reading needs Limits: use ParseObject.
func (o Object) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 32+len(o.Text)), `{"type":"`...)
	b = append(b, o.TypeName()...)
	b = append(b, `","value":`...)
	b = o.AppendJSONValue(b)
	return append(b, '}'), nil
}

// SQLValue returns the object's value as the SQL views store it (API.md §6): Number as
// float64 (REAL), String, Entity and Json as string (TEXT, Json canonical), Boolean as
// int64 0 or 1 (INTEGER), Time as string (TEXT, in the form that answers use).
func (o Object) SQLValue() any {
	switch o.Type {
	case TypeNumber:
		return o.Number + 0
	case TypeBoolean:
		return int64(boolByte(o.Bool))
	case TypeTime:
		return string(appendTime(nil, o.UnixNano))
	default:
		return o.Text
	}
}

// trimJSONSpace drops the four JSON whitespace bytes (RFC 8259 §2) from both ends; unlike
// bytes.TrimSpace it leaves other Unicode spaces, which are not JSON, for the parser to refuse.
func trimJSONSpace(v []byte) jsontext.Value {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}
