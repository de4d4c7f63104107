package assertion

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Limits bounds what Validate and ParseObject accept (API.md §2). The zero value accepts
// nothing; start from DefaultLimits and change the fields the server flags set.
type Limits struct {
	MaxSubject    int           // bytes of subject (and of an Entity object); default 1024
	MaxPredicate  int           // bytes of predicate; default 1024
	MaxSignatures int           // signatures in one assertion; default 32
	MaxJSON       int           // bytes of a Json object's canonical text; default 64 KiB
	MaxFutureSkew time.Duration // how far past the server clock a timestamp may be; default 300 s
}

// The defaults of API.md §1.2 and §2.
const (
	DefaultMaxSubject    = 1024
	DefaultMaxPredicate  = 1024
	DefaultMaxSignatures = 32
	DefaultMaxJSON       = 64 << 10
	DefaultMaxFutureSkew = 300 * time.Second
)

// DefaultLimits returns the limits of API.md §2.
func DefaultLimits() Limits {
	return Limits{
		MaxSubject:    DefaultMaxSubject,
		MaxPredicate:  DefaultMaxPredicate,
		MaxSignatures: DefaultMaxSignatures,
		MaxJSON:       DefaultMaxJSON,
		MaxFutureSkew: DefaultMaxFutureSkew,
	}
}

// Validate checks the assertion's shape against lim at the server time now: subject and
// predicate of 1..MaxSubject/MaxPredicate bytes of valid UTF-8, a valid object, a finite
// confidence in [0, 1], 1..MaxSignatures signatures from distinct agents, and no timestamp
// more than MaxFutureSkew after now. It does not verify signatures (see VerifySignatures),
// so that the server can spread that costly part over cores.
//
// The first problem found is returned; it matches ErrInvalid and names the field, as in
// "signatures[1].agent_id: duplicate agent ...".
func (a *Assertion) Validate(lim Limits, now time.Time) error {
	c := &a.Claim
	if err := checkText("subject", c.Subject, lim.MaxSubject); err != nil {
		return err
	}
	if err := checkText("predicate", c.Predicate, lim.MaxPredicate); err != nil {
		return err
	}
	if err := c.Object.Validate(lim); err != nil {
		return err
	}
	if math.IsNaN(c.Confidence) || c.Confidence < 0 || c.Confidence > 1 {
		return invalidf("confidence: must be a number in [0, 1], got %v", c.Confidence)
	}
	n := len(a.Signatures)
	if n == 0 || n > lim.MaxSignatures {
		return invalidf("signatures: want 1..%d signatures, got %d", lim.MaxSignatures, n)
	}
	for i, s := range a.Signatures {
		if err := checkTimestamp(s.Timestamp, lim, now); err != nil {
			return within(fmt.Sprintf("signatures[%d].", i), err)
		}
		// Quadratic, but n <= MaxSignatures (32) and this allocates nothing.
		for j := range i {
			if a.Signatures[j].Agent == s.Agent {
				return invalidf("signatures[%d].agent_id: agent %s already signed at signatures[%d]; "+
					"one signature per agent", i, s.Agent, j)
			}
		}
	}
	return nil
}

// Validate checks an object built in Go rather than by ParseObject: a known type, valid
// UTF-8 text, a non-empty Entity of at most lim.MaxSubject bytes, a finite Number, and Json
// text that is valid, canonical (RFC 8785) and at most lim.MaxJSON bytes. Errors match
// ErrInvalid and name the field as "object.value".
func (o Object) Validate(lim Limits) error {
	switch o.Type {
	case TypeString:
		if !utf8.ValidString(o.Text) {
			return invalidf("object.value: not valid UTF-8")
		}
	case TypeEntity:
		if err := checkEntity(len(o.Text), lim); err != nil {
			return err
		}
		if !utf8.ValidString(o.Text) {
			return invalidf("object.value: not valid UTF-8")
		}
	case TypeNumber:
		if math.IsNaN(o.Number) || math.IsInf(o.Number, 0) {
			return invalidf("object.value: a Number must be finite, got %v", o.Number)
		}
	case TypeBoolean, TypeTime:
		// Every bool and every int64 of nanoseconds is a valid value.
	case TypeJSON:
		if err := isCanonicalJSON(o.Text, lim.MaxJSON); err != nil {
			return within("object.value: ", err)
		}
	default:
		return invalidf("object.type: unknown type tag %d", o.Type)
	}
	return nil
}

// Validate checks the vote's shape: a value of -1, 0 or 1 and a timestamp not more than
// lim.MaxFutureSkew after now. The signature is checked by Verify.
func (v *Vote) Validate(lim Limits, now time.Time) error {
	if v.Value < -1 || v.Value > 1 {
		return invalidf("vote: must be -1, 0 or 1, got %d", v.Value)
	}
	return checkTimestamp(v.Timestamp, lim, now)
}

// Validate checks the retraction's shape: a timestamp not more than lim.MaxFutureSkew after
// now. The signature is checked by Verify.
func (r *Retraction) Validate(lim Limits, now time.Time) error {
	return checkTimestamp(r.Timestamp, lim, now)
}

func checkText(field, s string, max int) error {
	if len(s) == 0 || len(s) > max {
		return invalidf("%s: must be 1..%d bytes, got %d", field, max, len(s))
	}
	if !utf8.ValidString(s) {
		return invalidf("%s: not valid UTF-8", field)
	}
	return nil
}

// checkTimestamp refuses a signed act dated more than lim.MaxFutureSkew after now
// (API.md §1.2). Past timestamps are all accepted: acts may be signed offline and sent late.
func checkTimestamp(ts uint64, lim Limits, now time.Time) error {
	latest := now.Add(lim.MaxFutureSkew).Unix()
	if latest < 0 || ts > uint64(latest) {
		return invalidf("timestamp: %d is more than %v in the future (server time %d)",
			ts, lim.MaxFutureSkew, now.Unix())
	}
	return nil
}
