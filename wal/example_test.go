package wal_test

import (
	"context"
	"fmt"
	"os"

	"github.com/stemedb/stemedb/wal"
)

func Example() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	// Append returns once the record is fsynced.
	p, err := l.Append(ctx, []byte("first"))
	if err != nil {
		panic(err)
	}
	fmt.Println("first record:", p.Offset, "to", p.End)
	if _, err := l.AppendBatch(ctx, [][]byte{[]byte("second"), []byte("third")}); err != nil {
		panic(err)
	}

	// A reader sees durable records in order, and would block for more.
	r, err := l.NewReader(0)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for r.Offset() < l.End() {
		rec, err := r.Next(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%d %s\n", rec.Offset, rec.Payload)
	}
	// Output:
	// first record: 0 to 45
	// 0 first
	// 45 second
	// 91 third
}
