package assertion_test

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/assertion"
)

func TestObject_AppendValueBytes(t *testing.T) {
	tests := []struct {
		name string
		o    assertion.Object
		want string // hex
	}{
		{"String", assertion.Object{Type: assertion.TypeString, Text: "ab"}, "01" + "00000002" + "6162"},
		{"String/empty", assertion.Object{Type: assertion.TypeString}, "01" + "00000000"},
		{"Number", assertion.Object{Type: assertion.TypeNumber, Number: 96.7}, "02" + "40582ccccccccccd"},
		{"Number/-0", assertion.Object{Type: assertion.TypeNumber, Number: math.Copysign(0, -1)}, "02" + "0000000000000000"},
		{"Boolean/false", assertion.Object{Type: assertion.TypeBoolean}, "03" + "00"},
		{"Boolean/true", assertion.Object{Type: assertion.TypeBoolean, Bool: true}, "03" + "01"},
		{"Entity", assertion.Object{Type: assertion.TypeEntity, Text: "é"}, "04" + "00000002" + "c3a9"},
		{"Time/positive", assertion.Object{Type: assertion.TypeTime, UnixNano: 1}, "05" + "0000000000000001"},
		{"Time/negative", assertion.Object{Type: assertion.TypeTime, UnixNano: -1}, "05" + "ffffffffffffffff"},
		{"Json", assertion.Object{Type: assertion.TypeJSON, Text: "[]"}, "06" + "00000002" + "5b5d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, hex.EncodeToString(tt.o.AppendValueBytes(nil)))
			// Appending keeps what dst held.
			assert.Equal(t, "ff"+tt.want, hex.EncodeToString(tt.o.AppendValueBytes([]byte{0xff})))
		})
	}
}

func TestClaim_AppendBytes(t *testing.T) {
	c := assertion.Claim{
		Subject:    "s",
		Predicate:  "pp",
		Object:     assertion.Object{Type: assertion.TypeBoolean, Bool: true},
		Confidence: math.Copysign(0, -1),
		Source:     assertion.Hash{0: 0xaa, 31: 0xbb},
	}
	want := hex.EncodeToString([]byte("stemedb/claim/v1\x00")) +
		"00000001" + "73" + "00000002" + "7070" + "0301" + "0000000000000000" +
		"aa" + strings.Repeat("00", 30) + "bb"
	assert.Equal(t, want, hex.EncodeToString(c.AppendBytes(nil)))
}

func TestClaim_Hash(t *testing.T) {
	base := teslaClaim(t)
	h := base.Hash()
	assert.Equal(t, appendixTeslaHash, h.String())

	t.Run("-0 confidence is +0", func(t *testing.T) {
		a := assertion.Claim{Subject: "s", Predicate: "p", Object: assertion.Object{Type: assertion.TypeBoolean}}
		b := a
		b.Confidence = math.Copysign(0, -1)
		assert.Equal(t, a.Hash(), b.Hash())
	})
	t.Run("every field counts", func(t *testing.T) {
		for name, change := range map[string]func(*assertion.Claim){
			"subject":     func(c *assertion.Claim) { c.Subject += "x" },
			"predicate":   func(c *assertion.Claim) { c.Predicate += "x" },
			"object":      func(c *assertion.Claim) { c.Object.Number++ },
			"object type": func(c *assertion.Claim) { c.Object = assertion.Object{Type: assertion.TypeString, Text: "96.7"} },
			"confidence":  func(c *assertion.Claim) { c.Confidence = 0.9 },
			"source":      func(c *assertion.Claim) { c.Source = assertion.Hash{} },
		} {
			c := base
			change(&c)
			assert.NotEqual(t, h, c.Hash(), name)
		}
	})
	t.Run("length prefixes separate fields", func(t *testing.T) {
		a := assertion.Claim{Subject: "ab", Predicate: "c", Object: assertion.Object{Type: assertion.TypeBoolean}}
		b := assertion.Claim{Subject: "a", Predicate: "bc", Object: assertion.Object{Type: assertion.TypeBoolean}}
		assert.NotEqual(t, a.Hash(), b.Hash())
	})
	t.Run("large claim", func(t *testing.T) {
		c := assertion.Claim{Subject: "s", Predicate: "p",
			Object: assertion.Object{Type: assertion.TypeJSON, Text: `"` + strings.Repeat("x", 70000) + `"`}}
		assert.Equal(t, c.Hash(), c.Hash())
	})
	t.Run("no allocation", func(t *testing.T) {
		allocs := testing.AllocsPerRun(100, func() { h = base.Hash() })
		require.Zero(t, allocs)
	})
}
