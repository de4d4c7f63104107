//go:build bench

package node_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/node"
)

// compiled is the configuration the benchmarks run: what `stemedb serve` runs (wazero's
// compiler), with the compilation cache where the test says.
func compiled(cacheDir string) func(*node.Config) {
	return func(c *node.Config) {
		c.LensInterpreter = false
		c.LensCallTimeout = 0
		c.LensMemoryBytes = 0
		c.LensCacheDir = cacheDir
	}
}

// TestBenchTable_Lenses prints the custom-lens numbers for `make bench`:
//
//   - upload to live: POST /v1/lenses of a Go-built module (~2 MB) until the 201, with an
//     empty compilation cache, with the module already in the cache (another node, same
//     cache directory), and again in the same process (compiled code still loaded); and
//     the backfill of a materialized upload over every group;
//   - query cost: the Consensus rule as the built-in, as an uploaded materialized lens
//     (MyConsensus: the same rule in another module) and as an uploaded lens computed on
//     the fly (MyConsensusFly), for one subject (one group) and for a whole predicate.
func TestBenchTable_Lenses(t *testing.T) {
	const subjects = 5000
	mirror := module(t, mirrorLens)
	cache := t.TempDir()

	fmt.Println("== lenses: upload to live (a 2 MB Go module, wazero compiler)")
	upload := func(ln *lensNode, name string, materialized bool) time.Duration {
		t0 := time.Now()
		ln.upload(t, name, mirror, materialized)
		return time.Since(t0)
	}
	ln := startLensNode(t, t.TempDir(), compiled(cache))
	fmt.Printf("  %-52s %10v\n", "cold compile (empty cache)", upload(ln, "MyConsensus", true).Round(time.Millisecond))
	fmt.Printf("  %-52s %10v\n", "same process, compiled code loaded (another name)", upload(ln, "MyConsensusFly", false).Round(time.Millisecond))
	other := startLensNode(t, t.TempDir(), compiled(cache))
	fmt.Printf("  %-52s %10v\n", "cached compile (new process, warm cache dir)", upload(other, "MyConsensus", true).Round(time.Millisecond))
	other.stop()

	// Data: subjects with 1..4 conflicting candidates each, under one predicate.
	rng := rand.New(rand.NewPCG(7, 11))
	var last uint64
	for start := 0; start < subjects; start += 250 {
		var reqs []*api.AssertRequest
		for s := start; s < start+250; s++ {
			for j := range 1 + rng.IntN(4) {
				a := assertion.Assertion{Claim: assertion.Claim{
					Subject: fmt.Sprintf("entity_%05d", s), Predicate: "value",
					Object:     assertion.Object{Type: assertion.TypeNumber, Number: float64(rng.IntN(3))},
					Confidence: float64(rng.IntN(5)) / 4,
				}}
				a.Sign(testKeys[j], 1764000000+uint64(rng.IntN(100)))
				reqs = append(reqs, api.NewAssertRequest(&a))
			}
		}
		res, err := ln.admin.AssertBatch(context.Background(), reqs)
		require.NoError(t, err)
		last = res.Offset
	}
	ln.waitFor(t, last)
	// A new version re-materializes every group: time it until queries read the rows.
	t0 := time.Now()
	ln.upload(t, "MyConsensus", mirror, true)
	waitServing(t, ln, "MyConsensus")
	if bf := ln.lens(t, "MyConsensus").Backfill; bf == nil || !bf.Finished || bf.Done != subjects {
		t.Fatalf("backfill: %+v", bf)
	}
	fmt.Printf("  %-52s %10v\n", fmt.Sprintf("backfill of a new version over %d groups", subjects), time.Since(t0).Round(time.Millisecond))

	fmt.Printf("== lenses: query cost, the Consensus rule as built-in vs uploaded (%d groups)\n", subjects)
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	get := func(q url.Values) {
		resp, err := hc.Get(ln.base + "/v1/query?" + q.Encode())
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// measure runs readers goroutines for d and returns queries per second and the mean
	// latency.
	measure := func(readers int, d time.Duration, params func(r *rand.Rand) url.Values) (float64, time.Duration) {
		var mu sync.Mutex
		var n int
		var total time.Duration
		deadline := time.Now().Add(d)
		start := time.Now()
		var wg sync.WaitGroup
		for r := range readers {
			wg.Go(func() {
				rr := rand.New(rand.NewPCG(uint64(r), 3))
				var mine int
				var spent time.Duration
				for time.Now().Before(deadline) {
					q := params(rr)
					t0 := time.Now()
					get(q)
					spent += time.Since(t0)
					mine++
				}
				mu.Lock()
				n += mine
				total += spent
				mu.Unlock()
			})
		}
		wg.Wait()
		return float64(n) / time.Since(start).Seconds(), total / time.Duration(max(n, 1))
	}
	fmt.Printf("  %-40s %14s %12s %14s\n", "lens", "1 subject µs", "1 subj req/s", "predicate µs")
	for _, lens := range []string{"Consensus", "MyConsensus", "MyConsensusFly"} {
		one := func(r *rand.Rand) url.Values {
			return url.Values{"subject": {fmt.Sprintf("entity_%05d", r.IntN(subjects))}, "lens": {lens}}
		}
		_, lat := measure(1, 2*time.Second, one)
		rps, _ := measure(8, 2*time.Second, one)
		// A whole predicate: the first page of 100, total_count over every group.
		_, pred := measure(1, 3*time.Second, func(*rand.Rand) url.Values {
			return url.Values{"predicate": {"value"}, "lens": {lens}, "limit": {"100"}}
		})
		what := map[string]string{
			"Consensus":      "Consensus (built-in, rows)",
			"MyConsensus":    "MyConsensus (uploaded, materialized)",
			"MyConsensusFly": "MyConsensusFly (uploaded, on the fly)",
		}[lens]
		fmt.Printf("  %-40s %14.0f %12.0f %14.0f\n", what, float64(lat.Microseconds()), rps, float64(pred.Microseconds()))
	}
}
