package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/assertion"
	"github.com/stemedb/stemedb/client"
	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/node/nodetest"
)

// readmeBuild returns the README's build command: its one line that starts with
// GOOS=wasip1, to be run from the repository root.
func readmeBuild(t *testing.T) string {
	t.Helper()
	f, err := os.Open("README.md")
	require.NoError(t, err)
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "GOOS=wasip1 ") {
			found = append(found, line)
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, found, 1, "the README has one build command")
	return found[0]
}

// TestREADME follows the README as a newcomer would: build the module with the
// README's command, upload it to a real server over HTTP with the generated admin token
// (as the README's curl line does), write the README's three readings and query them.
func TestREADME(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build the module")
	}
	ctx := context.Background()

	// The README's build, run from the repository root; only the output goes to a temp
	// directory instead of the source tree.
	build := readmeBuild(t)
	const out = "-o examples/median-lens/median.wasm"
	require.Contains(t, build, out)
	wasmPath := filepath.Join(t.TempDir(), "median.wasm")
	cmd := exec.CommandContext(ctx, "sh", "-c", strings.Replace(build, out, "-o "+wasmPath, 1))
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "build: %s", stderr.String())
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(t, err)

	dataDir := t.TempDir()
	base := startServer(t, dataDir)
	token, err := os.ReadFile(filepath.Join(dataDir, node.AdminTokenFile))
	require.NoError(t, err)

	// curl -H "Authorization: Bearer $(cat data/admin.token)" --data-binary @median.wasm ...
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/lenses?name=Median", bytes.NewReader(wasm))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	c := client.New(base, nil)
	var last uint64
	for i, reading := range []struct {
		value, confidence float64
	}{{21.5, 0.9}, {22, 0.8}, {85, 0.99}} {
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize))
		a := assertion.Assertion{Claim: assertion.Claim{
			Subject: "room_42", Predicate: "temperature",
			Object:     assertion.Object{Type: assertion.TypeNumber, Number: reading.value},
			Confidence: reading.confidence,
		}}
		a.Sign(key, uint64(time.Now().Unix()))
		res, err := c.Assert(ctx, api.NewAssertRequest(&a))
		require.NoError(t, err)
		last = res.Offset
	}
	for lens, want := range map[string]string{"Median": "22", "HighestConfidence": "85"} {
		var q api.QueryResult
		require.NoError(t, c.Get(ctx, "/v1/query", url.Values{
			"subject": {"room_42"}, "lens": {lens},
			"min_offset": {strconv.FormatUint(last, 10)}, "wait_ms": {"10000"},
		}, &q))
		require.False(t, q.Stale, lens)
		require.Len(t, q.Assertions, 1, lens)
		require.Equal(t, want, string(q.Assertions[0].Object.Value), lens)
	}
}

// startServer serves a node on a loopback port until the test ends.
func startServer(t *testing.T, dataDir string) string {
	_, url := nodetest.Start(t, node.Config{DataDir: dataDir})
	return url
}
