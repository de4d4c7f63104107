package api

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Decode parses a request body into v strictly: unknown members, duplicate keys, invalid
// UTF-8 and lone surrogate escapes are refused with invalid_request, malformed JSON and
// members of the wrong JSON type with invalid_json. The error is always an *Error.
func Decode(body []byte, v any) error {
	if !utf8.Valid(body) {
		return Errorf(CodeInvalidRequest, "body is not valid UTF-8")
	}
	err := json.Unmarshal(body, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	return decodeError(err)
}

// decodeError classifies a go-json-experiment error into the codes of API.md §2.
func decodeError(err error) *Error {
	var serr *json.SemanticError
	if errors.As(err, &serr) {
		where := string(serr.JSONPointer)
		if where == "" {
			where = "body"
		}
		switch {
		case errors.Is(serr.Err, json.ErrUnknownName):
			return Errorf(CodeInvalidRequest, "unknown field %s", where)
		case serr.JSONKind == '0' && serr.GoType != nil && isNumberKind(serr.GoType.Kind().String()):
			// Right JSON type, wrong range: e.g. a negative timestamp or a vote of 7.
			return Errorf(CodeInvalidRequest, "number at %s is out of range", where)
		case serr.JSONKind != 0 && serr.GoType != nil:
			return Errorf(CodeInvalidJSON, "wrong JSON type at %s: got %s", where, kindName(serr.JSONKind))
		}
		return Errorf(CodeInvalidJSON, "cannot decode %s", where)
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		switch {
		case errors.Is(syn.Err, jsontext.ErrDuplicateName):
			return Errorf(CodeInvalidRequest, "duplicate key at %s", pointerOrBody(syn.JSONPointer))
		case strings.Contains(syn.Error(), "surrogate") || strings.Contains(syn.Error(), "UTF-8"):
			// The library does not export a sentinel for these; its message is pinned by a test.
			return Errorf(CodeInvalidRequest, "string at %s is not valid Unicode", pointerOrBody(syn.JSONPointer))
		}
		return Errorf(CodeInvalidJSON, "malformed JSON at byte %d", syn.ByteOffset)
	}
	return Errorf(CodeInvalidJSON, "malformed JSON")
}

func pointerOrBody(p jsontext.Pointer) string {
	if p == "" {
		return "body"
	}
	return string(p)
}

func isNumberKind(k string) bool {
	return strings.HasPrefix(k, "int") || strings.HasPrefix(k, "uint") || strings.HasPrefix(k, "float")
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "invalid"
}
