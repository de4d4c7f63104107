package assertion

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// Json objects are stored as RFC 8785 (JCS) canonical text, so that equal values hash
// alike whatever spacing, key order or number spelling a client used. jsontext does the
// canonicalization; by default it also refuses duplicate keys, invalid UTF-8 and lone
// surrogate escapes, which API.md §1 requires.

// maxDouble is how jsontext canonicalizes a number too large for a double: it rounds to
// the largest finite one. Its presence in the output is the cue to look for overflow.
const maxDouble = "1.7976931348623157e+308"

// canonicalJSON returns the RFC 8785 form of one JSON value. It refuses a value that is not
// valid JSON (I-JSON: no duplicate keys, valid Unicode), whose canonical text is longer than
// maxLen, or that holds a number outside the range of a double, which RFC 8785 §3.2.2.3
// treats as an error where jsontext would silently round it to ±1.7976931348623157e+308.
func canonicalJSON(src []byte, maxLen int) (string, error) {
	v := jsontext.Value(bytes.Clone(src)) // Canonicalize works in place; src is the caller's
	if err := v.Canonicalize(); err != nil {
		return "", invalidf("not valid JSON: %s", jsonErrText(err))
	}
	if len(v) > maxLen {
		return "", invalidf("canonical JSON is %d bytes, over the limit of %d", len(v), maxLen)
	}
	if bytes.Contains(v, []byte(maxDouble)) { // rare: only then pay for a second pass
		if err := checkNumberRange(src); err != nil {
			return "", err
		}
	}
	return string(v), nil
}

// checkNumberRange refuses a number that overflows a double anywhere in a valid JSON value.
func checkNumberRange(src []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(src))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return invalidf("not valid JSON: %s", jsonErrText(err))
		}
		if tok.Kind() == '0' {
			if _, err := tok.Float(); err != nil {
				return invalidf("number %s is outside the range of a double", clip(tok.String()))
			}
		}
	}
}

// isCanonicalJSON reports whether s is already the canonical text of a JSON value.
func isCanonicalJSON(s string, maxLen int) error {
	c, err := canonicalJSON([]byte(s), maxLen)
	if err != nil {
		return err
	}
	if c != s {
		return invalidf("not in RFC 8785 canonical form")
	}
	return nil
}

// jsonErrText drops jsontext's package prefix, which means nothing to an API user.
func jsonErrText(err error) string {
	const p = "jsontext: "
	s := err.Error()
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// clip shortens user input quoted in a message: a number may be a megabyte of digits.
func clip(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
