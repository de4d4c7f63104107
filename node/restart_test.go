package node_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/client"
	"github.com/stemedb/stemedb/materialize"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/sqlview/sqlviewtest"
)

const childDataDirEnv = "STEMEDB_TEST_CHILD_DATA_DIR"

// TestRestart_Child is the server process that TestRestart_KilledMidWork kills; it does
// nothing unless started by that test.
func TestRestart_Child(t *testing.T) {
	dir := os.Getenv(childDataDirEnv)
	if dir == "" {
		t.Skip("runs only as TestRestart_KilledMidWork's child process")
	}
	ctx := context.Background()
	n, err := node.Open(ctx, node.Config{DataDir: dir, Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	ln, err := n.Listen()
	require.NoError(t, err)
	fmt.Printf("LISTENING %s\n", ln.Addr())
	require.NoError(t, n.Serve(ctx, ln)) // until SIGKILL
}

// startChild starts a server process on dir and returns its client.
func startChild(t *testing.T, dir string) (*exec.Cmd, *client.Client) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestart_Child$", "-test.v")
	cmd.Env = append(os.Environ(), childDataDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "LISTENING "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return cmd, client.New("http://"+addr, nil)
		}
	}
	t.Fatalf("child exited before listening: %v", lines.Err())
	return nil, nil
}

// writeLoad posts rounds of batches with conflicting claims, co-signatures, votes and
// retractions, so that ingest and the materializer have real work when the kill comes.
func writeLoad(t *testing.T, c *client.Client, rng *rand.Rand, keys []ed25519.PrivateKey, batches int) {
	ctx := context.Background()
	for range batches {
		reqs := make([]*api.AssertRequest, 100)
		var hashes []assertion.Hash
		for i := range reqs {
			a := assertion.Assertion{Claim: assertion.Claim{
				Subject:    fmt.Sprintf("company_%d", rng.IntN(300)),
				Predicate:  []string{"revenue", "ceo", "founded"}[rng.IntN(3)],
				Object:     assertion.Object{Type: assertion.TypeNumber, Number: float64(rng.IntN(4))},
				Confidence: float64(rng.IntN(5)) / 4,
			}}
			for _, k := range rng.Perm(len(keys))[:1+rng.IntN(2)] {
				a.Sign(keys[k], 1764000000+uint64(rng.IntN(100)))
			}
			reqs[i] = api.NewAssertRequest(&a)
			hashes = append(hashes, a.Claim.Hash())
		}
		_, err := c.AssertBatch(ctx, reqs)
		require.NoError(t, err)
		for range 5 {
			h := hashes[rng.IntN(len(hashes))]
			k := keys[rng.IntN(len(keys))]
			v := assertion.SignVote(k, h, int8(rng.IntN(3)-1), 1764000000+uint64(rng.IntN(100)))
			_, err := c.Vote(ctx, api.NewVoteRequest(&v))
			require.NoError(t, err)
			r := assertion.SignRetraction(k, hashes[rng.IntN(len(hashes))], 1764000000+uint64(rng.IntN(100)))
			_, err = c.Retract(ctx, api.NewRetractRequest(&r))
			require.NoError(t, err)
		}
	}
}

// caughtUp opens dir in-process, waits until the views include the whole log, and
// returns the digest of `resolved` and of the base tables.
func caughtUp(t *testing.T, dir string) (resolved, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := node.Open(ctx, node.Config{DataDir: dir, Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	end := n.WAL().End()
	require.NoError(t, n.Ingester().WaitApplied(ctx, end))
	require.NoError(t, n.Materializer().WaitMaterialized(ctx, end))
	resolved, err = materialize.Digest(ctx, n.Views().ReadDB())
	require.NoError(t, err)
	return resolved, baseDigest(t, n)
}

// baseDigest renders the queryable base tables in a fixed order.
func baseDigest(t *testing.T, n *node.Node) string {
	var sb strings.Builder
	for _, q := range []string{
		`SELECT hash, subject, predicate, object_type, object_value, confidence, source_hash, retracted, "offset" FROM assertions ORDER BY hash`,
		`SELECT assertion_hash, agent_id, signature, timestamp FROM signatures ORDER BY assertion_hash, agent_id`,
		`SELECT assertion_hash, agent_id, vote, timestamp FROM votes ORDER BY assertion_hash, agent_id`,
	} {
		for _, row := range sqlviewtest.Rows(t, n.Views().ReadDB(), q) {
			fmt.Fprintln(&sb, row...)
		}
	}
	return sb.String()
}

// copyLog copies only the log of src into a new data directory: a fresh rebuild.
func copyLog(t *testing.T, src string) string {
	dst := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dst, "wal"), 0o755))
	entries, err := os.ReadDir(filepath.Join(src, "wal"))
	require.NoError(t, err)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".wal") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, "wal", e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, "wal", e.Name()), data, 0o644))
	}
	return dst
}

// TestRestart_KilledMidWork kills the server with SIGKILL right after acknowledged
// writes, while ingest and the materializer are busy, restarts it, and checks that it
// comes back to the views a fresh rebuild from the log gives.
func TestRestart_KilledMidWork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	keys := make([]ed25519.PrivateKey, 4)
	for i := range keys {
		keys[i] = ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+i)), 32)))
	}
	for round := range 3 {
		cmd, c := startChild(t, dir)
		writeLoad(t, c, rng, keys, 5+round*3)
		var st api.Status
		require.NoError(t, c.Get(context.Background(), "/v1/status", nil, &st))
		t.Logf("before the last burst: log %d, ingested %d, materialized %d", st.LogOffset, st.IngestedOffset, st.MaterializedOffset)
		// The kill follows the burst's acknowledgement at once: ingest has records to
		// apply and the materializer dirty groups to resolve.
		writeLoad(t, c, rng, keys, 2)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
	}
	resolved, base := caughtUp(t, dir)
	freshResolved, freshBase := caughtUp(t, copyLog(t, dir))
	require.Equal(t, freshBase, base, "base tables equal a fresh rebuild from the log")
	require.Equal(t, freshResolved, resolved, "resolved equals a fresh rebuild from the log")
}
