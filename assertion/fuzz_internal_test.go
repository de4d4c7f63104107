package assertion

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rfc3339 is the shape of API.md §1.1's Time text, as a regular expression.
var rfc3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$`)

// FuzzParseTime: parseTime never panics; what it accepts round-trips through the answer
// format and agrees with time.Parse; what time.Parse accepts and parseTime refuses is
// refused for a reason the contract gives.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2024-01-02T03:04:05Z", "2024-01-02t03:04:05.123456789z", "2024-01-02T03:04:05.5+23:59",
		"2024-02-29T00:00:00-00:00", "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z",
		"2016-12-31T23:59:60Z", "2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05.1234567891Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59+24:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := parseTime(s)
		ref, refErr := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			// time.Parse is laxer than the contract (one-digit hours, a comma, ten fraction
			// digits, +24:00); where the text has the contract's shape, only the range differs.
			if refErr == nil && rfc3339.MatchString(s) {
				ok := strings.Contains(err.Error(), "out of range: a Time must lie") ||
					strings.Contains(err.Error(), "(at most ±23:59)")
				require.True(t, ok, "time.Parse accepts %q but parseTime says: %v", s, err)
			}
			return
		}
		require.NoError(t, refErr, "parseTime accepts %q but time.Parse does not", s)
		require.Equal(t, ref.UnixNano(), ns, s)

		out := appendTime(nil, ns)
		back, err := parseTime(string(out))
		require.NoError(t, err, "%q", out)
		require.Equal(t, ns, back)
	})
}
