package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/node"
	"github.com/stemedb/stemedb/node/nodetest"
)

// startNode serves a node on a loopback port until the test ends and returns its URL.
func startNode(t *testing.T, dataDir string) string {
	_, url := nodetest.Start(t, node.Config{DataDir: dataDir})
	return url
}

// run runs one stemedb command in-process and returns its stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := NewMain(strings.NewReader(""), &stdout, &stderr).Run(context.Background(), args)
	return stdout.String(), err
}

func TestCLI_KeygenAssertVoteRetract(t *testing.T) {
	dir := t.TempDir()
	url := startNode(t, filepath.Join(dir, "data"))
	keyPath := filepath.Join(dir, "alice.key")

	out, err := run(t, "keygen", "--out", keyPath)
	require.NoError(t, err)
	agentID := strings.TrimSpace(out)
	assert.Len(t, agentID, 64)
	info, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	_, err = run(t, "keygen", "--out", keyPath)
	assert.ErrorContains(t, err, "exists", "keygen never overwrites a key silently")

	out, err = run(t, "assert", "--server", url, "--key", keyPath, "--subject", "Tesla_Inc",
		"--predicate", "has_revenue", "--type", "Number", "--value", "96.7", "--confidence", "0.95")
	require.NoError(t, err)
	var res struct {
		Hash   string `json:"hash"`
		Status string `json:"status"`
		Offset uint64 `json:"offset"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, "created", res.Status)
	assert.Len(t, res.Hash, 64)
	assert.NotZero(t, res.Offset)

	out, err = run(t, "query", "--server", url, "--subject", "Tesla_Inc", "--lens", "Latest",
		"--min-offset", strconv.FormatUint(res.Offset, 10), "--wait-ms", "5000")
	require.NoError(t, err)
	assert.Contains(t, out, res.Hash, "the write is visible through the query command")
	assert.Contains(t, out, `"stale": false`)

	out, err = run(t, "sql", "--server", url, "SELECT subject, object_value FROM assertions")
	require.NoError(t, err)
	assert.Contains(t, out, "Tesla_Inc")
	assert.Contains(t, out, "96.7")
	out, err = run(t, "sql", "--server", url, "--format", "csv", "SELECT count(*) AS n FROM resolved_consensus")
	require.NoError(t, err)
	assert.Equal(t, "n\n1\n", out)
	_, err = run(t, "sql", "--server", url, "DELETE FROM assertions")
	assert.ErrorContains(t, err, "sql_forbidden")

	out, err = run(t, "status", "--server", url)
	require.NoError(t, err)
	assert.Contains(t, out, `"log_offset"`)

	out, err = run(t, "vote", "--server", url, "--key", keyPath, "--hash", res.Hash, "--vote", "-1")
	require.NoError(t, err)
	assert.Contains(t, out, `"recorded"`)
	out, err = run(t, "retract", "--server", url, "--key", keyPath, "--hash", res.Hash)
	require.NoError(t, err)
	assert.Contains(t, out, `"recorded"`)

	_, err = run(t, "assert", "--server", url, "--key", keyPath, "--subject", "", "--predicate", "p", "--value", "v")
	assert.Error(t, err, "an invalid claim is refused before it is sent")
}

func TestCLI_HelpShowsExample(t *testing.T) {
	for _, cmd := range []string{"serve", "keygen", "assert", "vote", "retract", "query", "status", "sql",
		"lens upload", "lens test", "wal verify", "wal repair"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(strings.Fields(cmd), "--help")
			err := NewMain(strings.NewReader(""), &stdout, &stderr).Run(context.Background(), args)
			if err != nil {
				require.ErrorIs(t, err, flag.ErrHelp)
			}
			assert.Contains(t, stderr.String()+stdout.String(), "Example")
		})
	}
}
