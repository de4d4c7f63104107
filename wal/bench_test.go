package wal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stemedb/stemedb/wal"
)

// BenchmarkAppend measures Append from c concurrent goroutines, each waiting for its
// own fsync: the group-commit path that HTTP writes take.
func BenchmarkAppend(b *testing.B) {
	for _, prealloc := range []bool{true, false} {
		for _, c := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("prealloc=%v/conc=%d/size=450", prealloc, c), func(b *testing.B) {
				l, err := wal.Open(b.TempDir(), wal.Options{NoPreallocate: !prealloc})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				p := payload(1, 450)
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				per := (b.N + c - 1) / c
				for g := range c {
					n := min(per, b.N-g*per)
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range n {
							if _, err := l.Append(context.Background(), p); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				st := l.Stats()
				b.ReportMetric(float64(st.Records)/float64(max(st.Batches, 1)), "records/batch")
			})
		}
	}
}

// BenchmarkAppendBatch measures one goroutine writing batches of k records with
// AppendBatch: one write and one fsync per batch.
func BenchmarkAppendBatch(b *testing.B) {
	for _, k := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d/size=450", k), func(b *testing.B) {
			l, err := wal.Open(b.TempDir(), wal.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ps := make([][]byte, k)
			for i := range ps {
				ps[i] = payload(uint64(i), 450)
			}
			b.SetBytes(int64(450 * k))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := l.AppendBatch(context.Background(), ps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures a Reader over durable records: pread, CRC-32C, BLAKE3, copy.
func BenchmarkRead(b *testing.B) {
	l, err := wal.Open(b.TempDir(), wal.Options{SegmentSize: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const n = 20000
	ps := make([][]byte, 500)
	for i := range ps {
		ps[i] = payload(uint64(i), 450)
	}
	for range n / len(ps) {
		if _, err := l.AppendBatch(context.Background(), ps); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(450)
	b.ReportAllocs()
	b.ResetTimer()
	var r *wal.Reader
	for i := range b.N {
		if i%n == 0 {
			if r != nil {
				r.Close()
			}
			if r, err = l.NewReader(0); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.Next(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
