package readonly

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// How row values are written, in JSON answers and in text (CSV and the CLI's
// tables). The rule is that a value's SQLite storage class survives the trip:
//
//	INTEGER  JSON number, written as digits: 42 (exact; beyond 2^53 a JavaScript
//	         client rounds it)
//	REAL     JSON number that always has a '.' or an exponent: 96.7, 100.0, 1e+21;
//	         shortest text that reads back as the same double. +-Infinity are
//	         written as 9e999 / -9e999, as SQLite's json() writes them (SQLite has
//	         no NaN: it stores NULL instead)
//	TEXT     JSON string
//	BLOB     JSON string of lowercase hex, like every hash in the API; typeof(x) or
//	         hex(x) in the SELECT tells a BLOB from TEXT when it matters
//	NULL     null
//
// In text, NULL is the empty string and the rest are written as in JSON without the
// quotes.

// AppendJSON appends the JSON encoding of a row value (see Sink) to dst.
func AppendJSON(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendReal(dst, x)
	case string:
		return appendJSONString(dst, x)
	case []byte:
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, x)
		return append(dst, '"')
	case bool: // not produced by SQLite; kept total for callers
		if x {
			return append(dst, '1')
		}
		return append(dst, '0')
	}
	return append(dst, "null"...)
}

// AppendText appends the text form of a row value to dst.
func AppendText(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return dst
	case string:
		return append(dst, x...)
	case []byte:
		return hex.AppendEncode(dst, x)
	}
	return AppendJSON(dst, v)
}

func appendReal(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "9e999"...)
	case math.IsInf(f, -1):
		return append(dst, "-9e999"...)
	case math.IsNaN(f):
		return append(dst, "null"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	if !strings.ContainsAny(string(dst[start:]), ".e") {
		dst = append(dst, ".0"...)
	}
	return dst
}

// appendJSONString quotes s as a JSON string. SQLite TEXT may hold bytes that are
// not UTF-8 (e.g. CAST(x'ff' AS TEXT)); they become U+FFFD so the answer stays
// valid JSON.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
