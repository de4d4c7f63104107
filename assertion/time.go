package assertion

import (
	"time"
)

// Time objects travel as RFC 3339 text (API.md §1.1) and are stored as int64 Unix
// nanoseconds. The parser is written out by hand because time.Parse differs from the
// contract in both directions: it accepts more than nine fraction digits and a comma as
// the decimal mark, refuses a lowercase `t`/`z` in some versions, and cannot say whether
// an instant fits in int64 nanoseconds (time.Time.UnixNano silently overflows).

// Bounds of int64 Unix nanoseconds, split into whole seconds and the nanosecond part of
// the non-negative remainder: minInt64 = minSec*1e9 + minFrac, maxInt64 = maxSec*1e9 + maxFrac.
const (
	minSec  = -9223372037
	minFrac = 145224192
	maxSec  = 9223372036
	maxFrac = 854775807
)

// parseTime reads an RFC 3339 date-time (API.md §1.1) and returns its Unix nanoseconds:
//
//	YYYY-MM-DD ("T"|"t") hh:mm:ss ["." 1*9DIGIT] ("Z"|"z"|("+"|"-") hh:mm)
//
// Years 0000–9999, real calendar days, seconds 00–59 (no leap second), offsets up to ±23:59.
// It returns an error matching ErrInvalid that explains what is wrong.
func parseTime(s string) (int64, error) {
	// The fixed part is 19 bytes plus at least a one-byte zone.
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return 0, invalidf("want an RFC 3339 date-time like 2024-01-02T03:04:05Z")
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, invalidf("want an RFC 3339 date-time like 2024-01-02T03:04:05Z")
	}
	switch {
	case month < 1 || month > 12:
		return 0, invalidf("month %02d out of range 01..12", month)
	case day < 1 || day > daysIn(year, month):
		return 0, invalidf("day %02d out of range for %04d-%02d", day, year, month)
	case hour > 23:
		return 0, invalidf("hour %02d out of range 00..23", hour)
	case minute > 59:
		return 0, invalidf("minute %02d out of range 00..59", minute)
	case sec > 59:
		return 0, invalidf("second %02d out of range 00..59 (leap seconds are not accepted)", sec)
	}

	rest := s[19:]
	var frac int64 // nanoseconds
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		nd := n - 1
		if nd == 0 || nd > 9 {
			return 0, invalidf("fraction of a second must have 1 to 9 digits, got %d", nd)
		}
		f, _ := digits(rest[1:n])
		for range 9 - nd {
			f *= 10
		}
		frac = f
		rest = rest[n:]
	}

	var offset int64 // seconds east of UTC
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 {
			return 0, invalidf("want a zone Z or ±hh:mm")
		}
		if oh > 23 || om > 59 {
			return 0, invalidf("zone offset %s out of range (at most ±23:59)", rest)
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, invalidf("want a zone Z or ±hh:mm after the seconds")
	}

	unix := daysFromCivil(year, month, day)*86400 + hour*3600 + minute*60 + sec - offset
	if unix < minSec || (unix == minSec && frac < minFrac) ||
		unix > maxSec || (unix == maxSec && frac > maxFrac) {
		return 0, invalidf("out of range: a Time must lie between " +
			"1677-09-21T00:12:43.145224192Z and 2262-04-11T23:47:16.854775807Z")
	}
	// Written so that neither product overflows at the two ends of the range.
	if unix < 0 {
		return (unix+1)*1e9 + (frac - 1e9), nil
	}
	return unix*1e9 + frac, nil
}

// digits reads a run of ASCII digits (at most 18, so it cannot overflow).
func digits(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, len(s) > 0
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date
// (H. Hinnant's algorithm, "chrono-compatible low-level date algorithms").
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// appendTime appends an instant as the API answers it: UTC in time.RFC3339Nano form,
// trailing zeros trimmed and no fraction when zero (API.md §4).
func appendTime(dst []byte, unixNano int64) []byte {
	return time.Unix(0, unixNano).UTC().AppendFormat(dst, time.RFC3339Nano)
}
