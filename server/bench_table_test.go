//go:build bench

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
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

// TestBenchTable prints the write path's table for `make bench`.
func TestBenchTable(t *testing.T) {
	const clients, n, rounds = 64, 20000, 3
	// As `stemedb serve` does unless GOMAXPROCS is set: one processor more than cores,
	// so that the committer's fdatasync does not idle a core.
	if os.Getenv("GOMAXPROCS") == "" {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.NumCPU() + 1))
	}
	bodies := presign(t, n*rounds*2)
	batches := batchBodies(t, 200*rounds, 100)

	w, err := wal.Open(t.TempDir(), wal.Options{})
	require.NoError(t, err)
	defer w.Close()
	durableURL := newBenchServer(t, w) + "/v1/assert"
	verifyURL := newBenchServer(t, &ackOnlyLog{}) + "/v1/assert"
	batchURL := newBenchServer(t, w) + "/v1/assert/batch"

	var verifyOnly, durable, batch, raw []float64
	var durableP50 time.Duration
	for r := range rounds {
		rate, _ := load(t, verifyURL, bodies[2*r*n:(2*r+1)*n], clients)
		verifyOnly = append(verifyOnly, rate)
		rate, p50 := load(t, durableURL, bodies[(2*r+1)*n:(2*r+2)*n], clients)
		durable = append(durable, rate)
		durableP50 = p50
		rate, _ = load(t, batchURL, batches[r*200:(r+1)*200], clients)
		batch = append(batch, rate*100)
		raw = append(raw, rawVerifyRate(40000))
	}
	vo, du, ba, rv := median(verifyOnly), median(durable), median(batch), median(raw)
	fmt.Printf("\nSigned writes over HTTP, %d keep-alive clients, GOMAXPROCS=%d, median of %d rounds\n", clients, runtime.GOMAXPROCS(0), rounds)
	fmt.Printf("%-44s %12s %10s\n", "what", "per second", "ratio")
	fmt.Printf("%-44s %12.0f %10s\n", "decode+verify-only handler (req/s)", vo, "1.00")
	fmt.Printf("%-44s %12.0f %9.2fx   (target >= 0.80; p50 %v)\n", "durable single asserts (req/s)", du, du/vo, durableP50.Round(time.Microsecond))
	fmt.Printf("%-44s %12.0f %10s\n", "raw Ed25519 verify, all cores (sig/s)", rv, "1.00")
	fmt.Printf("%-44s %12.0f %9.2fx   (target >= 0.80)\n", "durable batches of 100 (assertions/s)", ba, ba/rv)
	st := w.Stats()
	fmt.Printf("log: %+v\n", st)
}
