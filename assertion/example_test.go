package assertion_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stemedb/stemedb/assertion"
)

// A client builds a claim, signs it, and the server validates, verifies and logs it.
func Example() {
	seed, _ := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	key := ed25519.NewKeyFromSeed(seed)
	lim := assertion.DefaultLimits()

	obj, err := assertion.ParseObject("Number", jsontext.Value(`96.7`), lim)
	if err != nil {
		panic(err)
	}
	a := assertion.Assertion{Claim: assertion.Claim{
		Subject: "Tesla_Inc", Predicate: "has_revenue", Object: obj, Confidence: 0.95,
	}}
	a.Sign(key, 1764000000)

	// The server's side: shape first, then the costly signature check, then the log.
	if err := a.Validate(lim, time.Unix(1764000000, 0)); err != nil {
		panic(err)
	}
	if err := a.VerifySignatures(); err != nil {
		panic(err)
	}
	payload := assertion.AppendAssertRecord(nil, []assertion.Assertion{a})
	rec, err := assertion.DecodeRecord(payload)
	if err != nil {
		panic(err)
	}

	fmt.Println(a.Claim.Hash())
	fmt.Println(rec.Kind, len(payload), "bytes")
	fmt.Println(string(rec.Assertions[0].Claim.Object.AppendJSONValue(nil)))
	// Output:
	// 557d751d5442a3d08cea0618bff7c01d862ad4c1252fd7f500519e13f6df518e
	// assert 145 bytes
	// 96.7
}

// Errors carry their API code as a sentinel and name the field in their message.
func ExampleParseObject_errors() {
	_, err := assertion.ParseObject("Time", jsontext.Value(`"2016-12-31T23:59:60Z"`), assertion.DefaultLimits())
	fmt.Println(err)
	_, err = assertion.ParseObject("Number", jsontext.Value(`"96.7"`), assertion.DefaultLimits())
	fmt.Println(err)
	// Output:
	// object.value: second 60 out of range 00..59 (leap seconds are not accepted)
	// object.value: type Number needs a JSON number
}
