package assertion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime_Valid(t *testing.T) {
	date := func(y int, mo time.Month, d, h, mi, s, ns int) int64 {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixNano()
	}
	tests := []struct {
		in   string
		want int64
	}{
		{"2024-01-02T03:04:05Z", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-02t03:04:05z", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-02T03:04:05.5Z", date(2024, 1, 2, 3, 4, 5, 500000000)},
		{"2024-01-02T03:04:05.000000001Z", date(2024, 1, 2, 3, 4, 5, 1)},
		{"2024-01-02T03:04:05.123456789Z", date(2024, 1, 2, 3, 4, 5, 123456789)},
		{"2024-01-02T03:04:05.0Z", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-02T04:04:05+01:00", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-01T20:05:05.25-07:01", date(2024, 1, 2, 3, 6, 5, 250000000)},
		{"2024-01-03T03:03:05+23:59", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-01T03:05:05-23:59", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-02T03:04:05-00:00", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-01-02T03:04:05+00:00", date(2024, 1, 2, 3, 4, 5, 0)},
		{"2024-02-29T00:00:00Z", date(2024, 2, 29, 0, 0, 0, 0)},
		{"2000-02-29T00:00:00Z", date(2000, 2, 29, 0, 0, 0, 0)},
		{"2023-12-31T23:59:59Z", date(2023, 12, 31, 23, 59, 59, 0)},
		{"1970-01-01T00:00:00Z", 0},
		{"1969-12-31T23:59:59.999999999Z", -1},
		{"1970-01-01T01:00:00.000000001+01:00", 1},
		{"1677-09-21T00:12:43.145224192Z", math.MinInt64},
		{"2262-04-11T23:47:16.854775807Z", math.MaxInt64},
		{"2262-04-12T00:47:16.854775807+01:00", math.MaxInt64},
		{"1677-09-20T23:12:43.145224192-01:00", math.MinInt64},
		{"1700-02-28T12:00:00Z", date(1700, 2, 28, 12, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTime(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseTime_Invalid(t *testing.T) {
	tests := []struct {
		in      string
		message string // a part of the error message
	}{
		{"", "want an RFC 3339"},
		{"2024-01-02", "want an RFC 3339"},
		{"2024-01-02T03:04:05", "want an RFC 3339"},
		{"2024-01-02 03:04:05Z", "want an RFC 3339"},
		{"2024-01-02_03:04:05Z", "want an RFC 3339"},
		{"2024/01/02T03:04:05Z", "want an RFC 3339"},
		{"24-01-02T03:04:05Z", "want an RFC 3339"},
		{"2024-1-02T03:04:05Z", "want an RFC 3339"},
		{"+2024-01-02T03:04:05Z", "want an RFC 3339"},
		{"2024-01-02T3:04:05Z", "want an RFC 3339"},
		{"2024-01-02T03:04:05ZZ", "zone"},
		{"2024-01-02T03:04:05Z ", "zone"},
		{" 2024-01-02T03:04:05Z", "want an RFC 3339"},
		{"2024-01-02T03:04:05UTC", "zone"},
		{"2024-01-02T03:04:05+0100", "zone"},
		{"2024-01-02T03:04:05+01", "zone"},
		{"2024-01-02T03:04:05+1:00", "zone"},
		{"2024-01-02T03:04:05+01:0a", "zone"},
		{"2024-01-02T03:04:05+01:00:00", "zone"},
		{"2024-01-02T03:04:05+24:00", "offset +24:00 out of range"},
		{"2024-01-02T03:04:05-01:60", "out of range"},
		{"2024-01-02T03:04:05.Z", "1 to 9 digits, got 0"},
		{"2024-01-02T03:04:05.1234567890Z", "1 to 9 digits, got 10"},
		{"2024-01-02T03:04:05,5Z", "zone"},
		{"2024-01-02T03:04:05.5.5Z", "zone"},
		{"2024-01-02T03:04:60Z", "leap second"},
		{"2016-12-31T23:59:60Z", "leap second"},
		{"2024-01-02T03:60:05Z", "minute 60"},
		{"2024-01-02T24:00:00Z", "hour 24"},
		{"2024-00-02T03:04:05Z", "month 00"},
		{"2024-13-02T03:04:05Z", "month 13"},
		{"2024-01-00T03:04:05Z", "day 00"},
		{"2024-01-32T03:04:05Z", "day 32"},
		{"2024-04-31T03:04:05Z", "day 31"},
		{"2024-02-30T03:04:05Z", "day 30"},
		{"2023-02-29T03:04:05Z", "day 29"},
		{"1900-02-29T03:04:05Z", "day 29"},
		{"2024-0a-02T03:04:05Z", "want an RFC 3339"},
		{"２０２４-01-02T03:04:05Z", "want an RFC 3339"},
		{"1677-09-21T00:12:43.145224191Z", "out of range"},
		{"2262-04-11T23:47:16.854775808Z", "out of range"},
		{"2262-04-11T23:47:16.854775807-00:01", "out of range"},
		{"0000-01-01T00:00:00Z", "out of range"},
		{"9999-12-31T23:59:59.999999999Z", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseTime(tt.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalid), "error %v does not match ErrInvalid", err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// TestParseTime_Differential compares parseTime with time.Parse over random instants,
// fraction lengths and offsets, written in the shape both accept.
func TestParseTime_Differential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		ns := int64(rng.Uint64())
		frac := rng.IntN(10)
		off := rng.IntN(2*24*60-1) - (24*60 - 1) // -23:59 .. +23:59 in minutes
		loc := time.FixedZone("", off*60)
		layout := "2006-01-02T15:04:05"
		if frac > 0 {
			layout += "." + strings.Repeat("0", frac)
		}
		layout += "Z07:00"
		s := time.Unix(0, ns).In(loc).Format(layout)
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err, s)
		got, err := parseTime(s)
		if err != nil {
			// Format truncates the fraction, which can move an instant near the lower
			// end of the range below it.
			require.Less(t, tm.Unix(), int64(minSec+1), s)
			continue
		}
		require.Equal(t, tm.UnixNano(), got, s)
	}
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "1970-01-01T00:00:00Z"},
		{-1, "1969-12-31T23:59:59.999999999Z"},
		{1704164645500000000, "2024-01-02T03:04:05.5Z"},
		{1704164645000000000, "2024-01-02T03:04:05Z"},
		{1704164645120000000, "2024-01-02T03:04:05.12Z"},
		{math.MinInt64, "1677-09-21T00:12:43.145224192Z"},
		{math.MaxInt64, "2262-04-11T23:47:16.854775807Z"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.ns), func(t *testing.T) {
			assert.Equal(t, tt.want, string(appendTime(nil, tt.ns)))
			back, err := parseTime(tt.want)
			require.NoError(t, err)
			assert.Equal(t, tt.ns, back)
		})
	}
}

// TestParseTime_EveryDay walks every day of 1677..2262 through parseTime and time.Date, so
// that month lengths and leap years are checked exhaustively rather than by example.
func TestParseTime_EveryDay(t *testing.T) {
	for d := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2262; d = d.AddDate(0, 0, 1) {
		s := d.Format("2006-01-02T15:04:05Z")
		got, err := parseTime(s)
		require.NoError(t, err, s)
		require.Equal(t, d.UnixNano(), got, s)
	}
	for y := int64(0); y <= 9999; y++ {
		for m := int64(1); m <= 12; m++ {
			want := time.Date(int(y), time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			require.Equal(t, int64(want), daysIn(y, m), "%04d-%02d", y, m)
			require.Equal(t, time.Date(int(y), time.Month(m), 1, 0, 0, 0, 0, time.UTC).Unix()/86400,
				daysFromCivil(y, m, 1), "%04d-%02d", y, m)
		}
	}
}
