//go:build bench

package wal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBenchTable prints, for `make bench`, the append rate of 450-byte records at 1, 16,
// 64 and 256 concurrent appenders, beside the rate of a bare write+fdatasync loop of one
// 450-byte record. The disk is shared, so its speed drifts: the bare loop is measured
// right before every row (for a third of the row's time) and each row's ratio is taken
// against that neighbour. WAL_BENCH_RUNS (default 3) runs are made and medians printed;
// WAL_BENCH_SECONDS (default 2.5) sets each row's length.
//
//	go test -tags bench -run TestBenchTable -v ./wal/
func TestBenchTable(t *testing.T) {
	runs := envInt("WAL_BENCH_RUNS", 3)
	secs, _ := strconv.ParseFloat(os.Getenv("WAL_BENCH_SECONDS"), 64)
	if secs <= 0 {
		secs = 2.5
	}
	dur := time.Duration(secs * float64(time.Second))
	const size = 450

	type row struct {
		name string
		conc int
		opts Options
	}
	thread := Options{NoIOUring: true}
	rows := []row{
		{"1", 1, Options{}}, {"16", 16, Options{}}, {"64", 64, Options{}}, {"256", 256, Options{}},
		{"1 (fdatasync)", 1, thread}, {"16 (fdatasync)", 16, thread}, {"64 (fdatasync)", 64, thread},
		{"64 (no prealloc)", 64, Options{NoPreallocate: true}},
	}
	var bares []float64
	rates := make([][]float64, len(rows))
	ratios := make([][]float64, len(rows))
	batch := make([][]float64, len(rows))
	for run := range runs {
		line := fmt.Sprintf("run %d:", run+1)
		for i, r := range rows {
			bare := bareRate(t, size, dur/3)
			rate, perBatch := appendRate(t, r.conc, size, r.opts, dur)
			bares = append(bares, bare)
			rates[i] = append(rates[i], rate)
			ratios[i] = append(ratios[i], rate/bare)
			batch[i] = append(batch[i], perBatch)
			line += fmt.Sprintf(" [%s: %.0f/s vs bare %.0f/s]", r.name, rate, bare)
		}
		t.Log(line)
	}

	fmt.Printf("\nWAL append, %d-byte records, medians of %d runs of %v per row\n", size, runs, dur)
	fmt.Printf("bare write+fdatasync of one record: %.0f/s (median of %d measurements, range %.0f-%.0f)\n\n",
		median(bares), len(bares), minOf(bares), maxOf(bares))
	fmt.Println("rows flush through io_uring unless marked fdatasync (Options.NoIOUring)")
	fmt.Printf("%-18s %12s %9s %14s %9s\n", "appenders", "appends/s", "MB/s", "records/batch", "x bare")
	for i, r := range rows {
		m := median(rates[i])
		fmt.Printf("%-18s %12.0f %9.1f %14.1f %8.1fx\n", r.name, m, m*size/1e6, median(batch[i]), median(ratios[i]))
	}
	fmt.Println("\n(x bare: median over runs of the row's rate divided by the bare rate measured just before it)")
	fmt.Println()
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// bareRate is the baseline: append one 450-byte record to a file and fdatasync, in a
// loop, as a log without group commit would.
func bareRate(t *testing.T, size int, dur time.Duration) float64 {
	f, err := os.Create(filepath.Join(t.TempDir(), "bare"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := appendRecord(nil, make([]byte, size))
	var off int64
	n := 0
	start := time.Now()
	for time.Since(start) < dur {
		if _, err := f.WriteAt(rec, off); err != nil {
			t.Fatal(err)
		}
		if err := dataSync(f); err != nil {
			t.Fatal(err)
		}
		off += int64(len(rec))
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// appendRate runs conc goroutines appending for dur and returns appends/s and the mean
// batch size.
func appendRate(t *testing.T, conc, size int, opts Options, dur time.Duration) (float64, float64) {
	l, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := make([]byte, size)
	var stop atomic.Bool
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := l.Append(context.Background(), p); err != nil {
					t.Error(err)
					return
				}
				count.Add(1)
			}
		}()
	}
	time.Sleep(dur) // a fixed measuring window, not synchronisation
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	st := l.Stats()
	return float64(count.Load()) / el.Seconds(), float64(st.Records) / float64(max(st.Batches, 1))
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
