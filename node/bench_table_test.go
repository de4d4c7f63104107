//go:build bench

package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/node/nodetest"
	"github.com/stemedb/stemedb/wal"
)

func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[min(len(xs)-1, int(float64(len(xs))*p))]
}

// benchWriteToVisible measures (b): 64 writers, each posting a signed assert and then
// reading it back with min_offset; the latency is from the POST to the visible answer.
func benchWriteToVisible(t *testing.T, cfg node.Config) {
	const writers, perWriter = 64, 150
	cfg.DataDir = t.TempDir()
	n, srv := nodetest.Start(t, cfg)
	defer asServeRuns(n)()
	keys := make([]ed25519.PrivateKey, writers)
	bodies := make([][][]byte, writers)
	for w := range writers {
		keys[w] = ed25519.NewKeyFromSeed([]byte(fmt.Sprintf("%032d", w)))
		for i := range perWriter {
			a := assertion.Assertion{Claim: assertion.Claim{
				Subject: fmt.Sprintf("entity_%d_%d", w, i), Predicate: "value",
				Object: assertion.Object{Type: assertion.TypeNumber, Number: float64(i)}, Confidence: 0.5,
			}}
			a.Sign(keys[w], uint64(time.Now().Unix()))
			data, err := json.Marshal(api.NewAssertRequest(&a))
			require.NoError(t, err)
			bodies[w] = append(bodies[w], data)
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: writers * 2}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	var stale atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, b := range bodies[w] {
				t0 := time.Now()
				resp, err := hc.Post(srv+"/v1/assert", "application/json", bytes.NewReader(b))
				require.NoError(t, err)
				var res api.AssertResult
				require.NoError(t, json.UnmarshalRead(resp.Body, &res))
				resp.Body.Close()
				var sub struct {
					Subject string `json:"subject"`
				}
				require.NoError(t, json.Unmarshal(b, &sub, json.RejectUnknownMembers(false)))
				q := url.Values{"subject": {sub.Subject}, "lens": {"Latest"},
					"min_offset": {strconv.FormatUint(res.Offset, 10)}, "wait_ms": {"5000"}}
				resp, err = hc.Get(srv + "/v1/query?" + q.Encode())
				require.NoError(t, err)
				var qr api.QueryResult
				require.NoError(t, json.UnmarshalRead(resp.Body, &qr))
				resp.Body.Close()
				if qr.Stale || len(qr.Assertions) != 1 {
					stale.Add(1)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("\n(b) write -> visible, %d concurrent writers (assert, then query with min_offset; log flushes with %s, GOMAXPROCS=%d)\n",
		writers, n.WAL().SyncMethod(), runtime.GOMAXPROCS(0))
	fmt.Printf("  writes: %d in %v (%.0f/s); stale or missing answers: %d\n", len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), stale.Load())
	fmt.Printf("  latency p50 %v  p99 %v  max %v   (target p99 < 50ms)\n",
		percentile(lat, 0.5).Round(time.Microsecond), percentile(lat, 0.99).Round(time.Microsecond), percentile(lat, 1).Round(time.Microsecond))
}

// benchQuery measures (c): 16 readers of GET /v1/query over 1M assertions. The log is
// written directly (signatures are not checked by ingest), then ingested and materialized.
func benchQuery(t *testing.T) {
	const total, subjects, readers = 1_000_000, 100_000, 16
	dir := t.TempDir()
	l, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var agents [8]assertion.AgentID
	for i := range agents {
		agents[i][0] = byte(i + 1)
	}
	buildStart := time.Now()
	var payloads [][]byte
	for i := 0; i < total; i += 1000 {
		as := make([]assertion.Assertion, 1000)
		for j := range as {
			as[j] = assertion.Assertion{
				Claim: assertion.Claim{
					Subject: fmt.Sprintf("entity_%06d", rng.IntN(subjects)), Predicate: "value",
					Object:     assertion.Object{Type: assertion.TypeNumber, Number: float64(i + j)},
					Confidence: float64(rng.IntN(100)) / 100,
				},
				Signatures: []assertion.Signature{{Agent: agents[rng.IntN(len(agents))], Timestamp: 1764000000 + uint64(rng.IntN(1000))}},
			}
		}
		payloads = append(payloads, assertion.AppendAssertRecord(nil, as))
	}
	ctx := context.Background()
	for i := 0; i < len(payloads); i += 50 {
		_, err := l.AppendBatch(ctx, payloads[i:min(i+50, len(payloads))])
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	n, _, srv := startNodeURL(t, dir)
	defer asServeRuns(n)()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	end := n.WAL().End()
	require.NoError(t, n.Ingester().WaitApplied(wctx, end))
	ingested := time.Since(buildStart)
	require.NoError(t, n.Materializer().WaitMaterialized(wctx, end))
	materialized := time.Since(buildStart)
	fmt.Printf("\n(c) GET /v1/query, %d readers over %d assertions in %d groups\n", readers, total, subjects)
	fmt.Printf("  setup: log written, ingested after %v, materialized (6 lenses) after %v\n", ingested.Round(time.Millisecond), materialized.Round(time.Millisecond))

	tr := &http.Transport{MaxIdleConnsPerHost: readers}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	for _, lens := range []string{"Consensus", "All"} {
		var mu sync.Mutex
		var lat []time.Duration
		deadline := time.Now().Add(5 * time.Second)
		var wg sync.WaitGroup
		start := time.Now()
		for r := range readers {
			wg.Go(func() {
				rr := rand.New(rand.NewPCG(uint64(r), 9))
				var mine []time.Duration
				for time.Now().Before(deadline) {
					q := url.Values{"subject": {fmt.Sprintf("entity_%06d", rr.IntN(subjects))}, "lens": {lens}}
					t0 := time.Now()
					resp, err := hc.Get(srv + "/v1/query?" + q.Encode())
					require.NoError(t, err)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					require.Equal(t, http.StatusOK, resp.StatusCode)
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		el := time.Since(start)
		fmt.Printf("  lens=%-10s %8.0f req/s   p50 %v   p99 %v\n", lens, float64(len(lat))/el.Seconds(),
			percentile(lat, 0.5).Round(time.Microsecond), percentile(lat, 0.99).Round(time.Microsecond))
	}
}

// asServeRuns sets GOMAXPROCS as `stemedb serve` does for n (cmd/stemedb/serve.go): the
// processors the log's committer holds are added, unless GOMAXPROCS is in the
// environment. It returns the undo.
func asServeRuns(n *node.Node) func() {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	old := runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n.WAL().HeldProcs())
	return func() { runtime.GOMAXPROCS(old) }
}

// TestBenchTable prints the read path's tables (b) and (c) for `make bench`; (a) is in
// materialize/.
func TestBenchTable(t *testing.T) {
	benchWriteToVisible(t, node.Config{})
	benchQuery(t)
}
