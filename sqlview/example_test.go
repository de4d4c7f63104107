package sqlview_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/sqlview"
)

// Applying one log record, then reading the assertion back as the API returns it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlview-example")
	defer os.RemoveAll(dir)

	db, err := sqlview.Open(ctx, filepath.Join(dir, "stemedb.sqlite"), sqlview.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	a := assertion.Assertion{Claim: assertion.Claim{
		Subject: "Tesla_Inc", Predicate: "has_revenue",
		Object:     assertion.Object{Type: assertion.TypeNumber, Number: 96.7},
		Confidence: 0.95,
	}}
	a.Sign(key("alice"), 1764000000)
	rec := assertion.Record{Kind: assertion.KindAssert, Assertions: []assertion.Assertion{a}}

	// Ingest's job: apply records and store the offset in one transaction.
	applier, err := sqlview.NewApplier(ctx, db)
	if err != nil {
		panic(err)
	}
	err = db.Write(ctx, func(tx *sqlview.Tx) error {
		b := applier.Begin(tx, 0)
		if err := b.Apply(ctx, 120, &rec, nil); err != nil {
			return err
		}
		_, err := b.Finish(ctx, 120)
		return err
	})
	if err != nil {
		panic(err)
	}

	got, err := db.GetAssertion(ctx, a.Claim.Hash())
	if err != nil {
		panic(err)
	}
	st, _ := db.State(ctx)
	fmt.Println(got.Subject, got.Object.Number, len(got.Signatures), got.Retracted, got.Offset)
	fmt.Println("ingested:", st.IngestedOffset, "assertions:", st.Assertions, "dirty groups:", st.DirtyGroups)
	// Output:
	// Tesla_Inc 96.7 1 false 120
	// ingested: 120 assertions: 1 dirty groups: 1
}
