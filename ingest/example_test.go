package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/ingest"
	"github.com/stemedb/stemedb/sqlview"
	"github.com/stemedb/stemedb/wal"
)

// Wiring ingest between the log and the views, and waiting for a write to be applied.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ingest-example")
	defer os.RemoveAll(dir)

	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	db, err := sqlview.Open(ctx, filepath.Join(dir, "stemedb.sqlite"), sqlview.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	wake := make(chan struct{}, 1) // e.g. the materializer's
	in := ingest.New(db, ingest.WAL(log), ingest.Options{
		OnApplied: func(uint64) {
			select {
			case wake <- struct{}{}:
			default:
			}
		},
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- in.Run(runCtx) }()

	// What the HTTP layer does for POST /v1/assert.
	a := assertion.Assertion{Claim: assertion.Claim{
		Subject: "Tesla_Inc", Predicate: "has_revenue",
		Object:     assertion.Object{Type: assertion.TypeNumber, Number: 96.7},
		Confidence: 0.95,
	}}
	a.Sign(key("alice"), 1764000000)
	pos, err := log.Append(ctx, assertion.AppendAssertRecord(nil, []assertion.Assertion{a}))
	if err != nil {
		panic(err)
	}

	// What GET /v1/query?min_offset= does before reading.
	if err := in.WaitApplied(ctx, pos.End); err != nil {
		panic(err)
	}
	<-wake
	got, _ := db.GetAssertion(ctx, a.Claim.Hash())
	fmt.Println(got.Subject, got.Predicate, got.Offset == pos.End)

	stop()
	fmt.Println(<-done)
	// Output:
	// Tesla_Inc has_revenue true
	// <nil>
}
