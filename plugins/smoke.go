package plugins

import (
	"context"
	"errors"
	"fmt"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/host"
)

// smokeTest runs lens over sampleGroups once. A module whose lens fails on this small,
// ordinary input (a bug on its main path: a panic, an out-of-range index, a loop) is
// refused at upload with the reason, instead of failing every query and materializer
// batch later. Passing it proves little more than that the lens can answer at all.
func smokeTest(ctx context.Context, lens *host.Lens) error {
	groups := sampleGroups()
	if _, err := lens.Resolve(ctx, groups); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return err // the caller gave up: not the module's fault
		}
		return fmt.Errorf("%w: lens %s fails on a sample of %d ordinary groups: %v", host.ErrInvalidModule, lens.Name(), len(groups), err)
	}
	return nil
}

// sampleGroups is a small batch shaped like real data: one candidate alone; a tie on
// confidence and time between different objects; a group where the most confident
// candidate is not the most signed or the best voted; co-signed and contested objects
// of every type; agents with non-default trust. Empty groups are left out: whether the
// materializer ever sends one is its business, and a lens need not expect it.
func sampleGroups() []host.Group {
	agent := func(b byte) [32]byte {
		var a [32]byte
		for i := range a {
			a[i] = b ^ byte(i)
		}
		return a
	}
	hash := func(b byte) [32]byte {
		var h [32]byte
		for i := range h {
			h[i] = b + byte(7*i)
		}
		return h
	}
	signer := func(a byte, ts uint64, trust float64) host.Signer {
		return host.Signer{Agent: agent(a), Timestamp: ts, Trust: trust}
	}
	const t0 = 1_700_000_000
	return []host.Group{
		{
			Subject: "alice", Predicate: "email",
			Candidates: []host.Candidate{
				{Hash: hash(1), Object: str("alice@example.com"), Confidence: 0.9, Signers: []host.Signer{signer(1, t0, 1)}},
			},
		},
		{
			Subject: "alice", Predicate: "city",
			Candidates: []host.Candidate{
				{Hash: hash(2), Object: str("Paris"), Confidence: 0.8, Signers: []host.Signer{signer(1, t0+10, 1)}},
				{Hash: hash(3), Object: str("Lyon"), Confidence: 0.8, Signers: []host.Signer{signer(2, t0+10, 1)}},
			},
		},
		{
			Subject: "bob", Predicate: "age",
			Candidates: []host.Candidate{
				{Hash: hash(4), Object: number(41), Confidence: 0.99, Signers: []host.Signer{signer(3, t0+5, 0.2)}, Down: 3},
				{Hash: hash(5), Object: number(42), Confidence: 0.7, Signers: []host.Signer{signer(1, t0+1, 1), signer(2, t0+2, 1), signer(4, t0+3, 2.5)}, Up: 2, Down: 1},
				{Hash: hash(6), Object: number(42), Confidence: 0.6, Signers: []host.Signer{signer(5, t0+4, 1)}, Up: 1},
				{Hash: hash(7), Object: boolean(true), Confidence: 0, Signers: []host.Signer{signer(2, t0+20, 1)}},
			},
		},
		{
			Subject: "acme", Predicate: "founded",
			Candidates: []host.Candidate{
				{Hash: hash(8), Object: timestamp(-1_000_000_000), Confidence: 1, Signers: []host.Signer{signer(6, t0, 1), signer(7, t0, 1)}},
				{Hash: hash(9), Object: entity("acme-holdings"), Confidence: 0.5, Signers: []host.Signer{signer(6, t0+30, 1)}, Up: 4},
				{Hash: hash(10), Object: jsonValue(`{"year":1999}`), Confidence: 0.5, Signers: []host.Signer{signer(8, t0+30, 0)}, Down: 4},
			},
		},
	}
}

// Objects in their claim-bytes encoding (API.md §1.1), as the claim model writes them.

func object(o assertion.Object) []byte { return o.AppendValueBytes(nil) }

func str(s string) []byte {
	return object(assertion.Object{Type: assertion.TypeString, Text: s})
}

func entity(s string) []byte {
	return object(assertion.Object{Type: assertion.TypeEntity, Text: s})
}

func jsonValue(s string) []byte { return object(assertion.Object{Type: assertion.TypeJSON, Text: s}) }

func number(f float64) []byte {
	return object(assertion.Object{Type: assertion.TypeNumber, Number: f})
}

func boolean(v bool) []byte { return object(assertion.Object{Type: assertion.TypeBoolean, Bool: v}) }

func timestamp(ns int64) []byte {
	return object(assertion.Object{Type: assertion.TypeTime, UnixNano: ns})
}
