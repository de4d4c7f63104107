//go:build bench && unix

package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/wal"
)

// ackOnlyLog acknowledges without writing: the server becomes a decode-and-verify handler.
type ackOnlyLog struct{ end atomic.Uint64 }

func (l *ackOnlyLog) Append(_ context.Context, p []byte) (wal.Position, error) {
	end := l.end.Add(uint64(len(p) + 40))
	return wal.Position{Offset: end - uint64(len(p)+40), End: end}, nil
}

// presign makes n distinct signed assert bodies (signing is not timed).
func presign(t *testing.T, n int) [][]byte {
	alice := newAgent(1)
	bodies := make([][]byte, n)
	for i := range bodies {
		c := teslaClaim()
		c.Subject = fmt.Sprintf("company_%08d", i)
		bodies[i] = body(t, api.NewAssertRequest(signed(c, 1764000000, alice)))
	}
	return bodies
}

func batchBodies(t *testing.T, n, size int) [][]byte {
	alice := newAgent(2)
	out := make([][]byte, n)
	for i := range out {
		items := make([]*api.AssertRequest, size)
		for j := range items {
			c := teslaClaim()
			c.Subject = fmt.Sprintf("batch_%06d_%03d", i, j)
			items[j] = api.NewAssertRequest(signed(c, 1764000000, alice))
		}
		out[i] = body(t, map[string]any{"assertions": items})
	}
	return out
}

// load posts bodies from `clients` keep-alive connections and returns requests/s and the
// median latency.
func load(t *testing.T, url string, bodies [][]byte, clients int) (float64, time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next atomic.Int64
	lat := make([]time.Duration, len(bodies))
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				t0 := time.Now()
				resp, err := hc.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(len(bodies)) / elapsed.Seconds(), lat[len(lat)/2]
}

// rawVerifyRate is Ed25519 verifications/s on every core, with no HTTP or JSON.
func rawVerifyRate(n int) float64 {
	pub, key, _ := ed25519.GenerateKey(nil)
	msg := assertion.AssertMessage(assertion.Hash{1}, 1764000000)
	sig := ed25519.Sign(key, msg)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				ed25519.Verify(pub, msg, sig)
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

func newBenchServer(t *testing.T, l server.Log) string {
	s, err := server.New(server.Config{Log: l, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// phase is one row's measurements over the rounds.
type phase struct {
	rates, cpuPerReq, util, p50ms []float64
}

// measure runs load once and records the rate, the process CPU per assertion (client and
// server: they share the machine) and the share of the cores that was busy.
func (p *phase) measure(t *testing.T, url string, bodies [][]byte, clients, perBody int) {
	c0, t0 := cpuTime(), time.Now()
	rate, p50 := load(t, url, bodies, clients)
	cpu, wall := cpuTime()-c0, time.Since(t0)
	p.rates = append(p.rates, rate*float64(perBody))
	p.cpuPerReq = append(p.cpuPerReq, float64(cpu.Microseconds())/float64(len(bodies)*perBody))
	p.util = append(p.util, cpu.Seconds()/wall.Seconds()/float64(runtime.NumCPU()))
	p.p50ms = append(p.p50ms, float64(p50.Microseconds())/1000)
}

// row prints the phase. Its ratio is the median over rounds of its rate divided by
// base's rate in the same round: the machine's speed drifts between rounds, and a
// neighbour measured seconds apart drifts least.
func (p *phase) row(name string, base []float64, target string) {
	r := median(p.rates)
	ratio := "1.00"
	if base != nil {
		var rs []float64
		for i := range p.rates {
			rs = append(rs, p.rates[i]/base[i])
		}
		ratio = fmt.Sprintf("%.2fx", median(rs))
	}
	fmt.Printf("%-42s %11.0f %8s %8.1f %6.2f  %s\n", name, r, ratio, median(p.cpuPerReq), median(p.util), target)
}

// withProcs runs f with GOMAXPROCS set to n (0: unchanged).
func withProcs(n int, f func()) {
	if n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	f()
}

// TestBenchTable prints the write path's table for `make bench`.
//
// Everything runs in one process on one machine: 64 keep-alive clients post claims that
// were signed before timing. The durable rows write through a real log. Processors are
// set as `stemedb serve` sets them, from the log's HeldProcs: left alone when it flushes
// through io_uring, one more for the fdatasync row (unless GOMAXPROCS is set in the
// environment, which then applies to every row).
func TestBenchTable(t *testing.T) {
	const clients, n, rounds = 64, 20000, 5
	bodies := presign(t, n*rounds*3)
	batches := batchBodies(t, 200*rounds, 100)

	ring, err := wal.Open(t.TempDir(), wal.Options{})
	require.NoError(t, err)
	defer ring.Close()
	thread, err := wal.Open(t.TempDir(), wal.Options{NoIOUring: true})
	require.NoError(t, err)
	defer thread.Close()
	// procs is the GOMAXPROCS `stemedb serve` runs with l (0: leave it as it is).
	procs := func(l *wal.Log) int {
		if os.Getenv("GOMAXPROCS") != "" {
			return 0
		}
		return runtime.GOMAXPROCS(0) + l.HeldProcs()
	}
	ringProcs, threadProcs := procs(ring), procs(thread)
	if ring.SyncMethod() == "fdatasync" {
		t.Log("io_uring is unavailable here: both durable rows flush with fdatasync")
	}
	durableURL := newBenchServer(t, ring) + "/v1/assert"
	threadURL := newBenchServer(t, thread) + "/v1/assert"
	verifyURL := newBenchServer(t, &ackOnlyLog{}) + "/v1/assert"
	batchURL := newBenchServer(t, ring) + "/v1/assert/batch"

	var verifyOnly, durable, durableThread, batch phase
	var raw []float64
	for r := range rounds {
		chunk := func(k int) [][]byte { return bodies[(3*r+k)*n : (3*r+k+1)*n] }
		withProcs(ringProcs, func() { verifyOnly.measure(t, verifyURL, chunk(0), clients, 1) })
		withProcs(ringProcs, func() { durable.measure(t, durableURL, chunk(1), clients, 1) })
		withProcs(threadProcs, func() { durableThread.measure(t, threadURL, chunk(2), clients, 1) })
		withProcs(ringProcs, func() {
			batch.measure(t, batchURL, batches[r*200:(r+1)*200], clients, 100)
			raw = append(raw, rawVerifyRate(40000))
		})
	}
	rv := median(raw)
	fmt.Printf("\nSigned writes over HTTP, %d keep-alive clients, %d cores, medians of %d rounds\n", clients, runtime.NumCPU(), rounds)
	fmt.Printf("(cpu µs: process CPU per assertion, client included; busy: share of the cores in use)\n")
	fmt.Printf("%-42s %11s %8s %8s %6s\n", "what", "per second", "ratio", "cpu µs", "busy")
	verifyOnly.row("decode+verify-only handler (req/s)", nil, "")
	durable.row("durable single asserts (req/s), "+ring.SyncMethod(), verifyOnly.rates,
		fmt.Sprintf("target >= 0.80; p50 %.2f ms", median(durable.p50ms)))
	durableThread.row(fmt.Sprintf("  same, fdatasync, GOMAXPROCS=%d", max(threadProcs, runtime.GOMAXPROCS(0))), verifyOnly.rates,
		fmt.Sprintf("p50 %.2f ms", median(durableThread.p50ms)))
	fmt.Printf("%-42s %11.0f %8s\n", "raw Ed25519 verify, all cores (sig/s)", rv, "1.00")
	batch.row("durable batches of 100 (assertions/s)", raw, "target >= 0.80")
	fmt.Printf("log (%s): %+v\n", ring.SyncMethod(), ring.Stats())
	fmt.Printf("log (%s): %+v\n", thread.SyncMethod(), thread.Stats())
}
