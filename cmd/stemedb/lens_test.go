package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/api"
	"github.com/stemedb/stemedb/lenses-wasm/sdk/sdktest"
)

// TestCLI_Lens drives every lens subcommand against a real server: upload (twice: a new
// version), list, show, test with groups from a file, rm, and the refusals a user meets.
func TestCLI_Lens(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	url := startNode(t, dataDir)
	wasm, err := sdktest.Build(context.Background(), filepath.Join("..", "..", "plugins", "testdata", "sololens"))
	require.NoError(t, err)
	modPath := filepath.Join(dir, "solo.wasm")
	require.NoError(t, os.WriteFile(modPath, wasm, 0o644))
	t.Setenv("STEMEDB_ADMIN_TOKEN", "") // the token comes from --data-dir below

	out, err := run(t, "lens", "upload", "--server", url, "--data-dir", dataDir, "--name", "Solo", modPath)
	require.NoError(t, err)
	var up api.Lens
	require.NoError(t, json.Unmarshal([]byte(out), &up), out)
	assert.Equal(t, "Solo", up.Name)
	assert.Equal(t, 1, up.Version)
	assert.True(t, up.Materialized)

	// Flags after the file work too; the name defaults to the file's base name, which
	// matches Solo (names ignore case): the same name again is a new version.
	out, err = run(t, "lens", "upload", modPath, "--server", url, "--data-dir", dataDir, "--materialized=false")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &up), out)
	assert.Equal(t, "Solo", up.Name, "the first upload's spelling stays")
	assert.Equal(t, 2, up.Version)
	assert.False(t, up.Materialized)

	out, err = run(t, "lens", "list", "--server", url)
	require.NoError(t, err)
	assert.Contains(t, out, "NAME")
	assert.Contains(t, out, "Consensus")
	var soloLine string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Solo ") {
			soloLine = line
		}
	}
	assert.Equal(t, []string{"Solo", "2", "false", "false", "live", "on_the_fly", up.Hash[:12]}, strings.Fields(soloLine))

	out, err = run(t, "lens", "show", "--server", url, "solo")
	require.NoError(t, err)
	var shown api.Lens
	require.NoError(t, json.Unmarshal([]byte(out), &shown), out)
	assert.Equal(t, "Solo", shown.Name)
	require.Len(t, shown.Versions, 2)
	assert.True(t, shown.Versions[0].Materialized)
	assert.True(t, shown.Versions[1].Live)

	groups := filepath.Join(dir, "groups.json")
	require.NoError(t, os.WriteFile(groups, []byte(`{"groups": [{"subject": "s", "predicate": "p", "candidates": [
		{"hash": "`+strings.Repeat("b", 64)+`", "object": {"type": "String", "value": "b"}, "confidence": 0.9, "signers": []},
		{"hash": "`+strings.Repeat("a", 64)+`", "object": {"type": "String", "value": "a"}, "confidence": 0.1, "signers": []}]}]}`), 0o644))
	token, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	require.NoError(t, err)
	out, err = run(t, "lens", "test", "--server", url, "--admin-token", strings.TrimSpace(string(token)),
		"--groups", groups, "--compare", "HighestConfidence", modPath)
	require.NoError(t, err)
	var dry api.LensTestResult
	require.NoError(t, json.Unmarshal([]byte(out), &dry), out)
	require.Len(t, dry.Results, 1)
	assert.Equal(t, 1, dry.Results[0].Winners[0].Index, "Solo: the smallest hash")
	assert.Equal(t, 0, dry.Results[0].Current[0].Index, "HighestConfidence: the most confident")
	assert.Equal(t, 1, dry.Differ)

	out, err = run(t, "lens", "rm", "--server", url, "--data-dir", dataDir, "Solo")
	require.NoError(t, err)
	assert.Equal(t, "removed Solo\n", out)

	_, err = run(t, "lens", "rm", "--server", url, "--data-dir", dataDir, "Consensus")
	assert.ErrorContains(t, err, "conflict")
	_, err = run(t, "lens", "rm", "--server", url, "Solo")
	assert.ErrorContains(t, err, "admin token")
	_, err = run(t, "lens", "rm", "--server", url, "--admin-token", "wrong", "Solo")
	assert.ErrorContains(t, err, "unauthorized")
	_, err = run(t, "lens", "upload", "--server", url, "--data-dir", dataDir, "--name", "Junk", groups)
	assert.ErrorContains(t, err, "invalid_module")
	_, err = run(t, "lens", "nope")
	assert.ErrorContains(t, err, "unknown lens subcommand")
}

func TestCLI_LensHelpShowsExample(t *testing.T) {
	for _, sub := range []string{"upload", "list", "show", "rm", "test"} {
		t.Run(sub, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := NewMain(strings.NewReader(""), &stdout, &stderr).Run(context.Background(), []string{"lens", sub, "--help"})
			require.Error(t, err)
			assert.Contains(t, stderr.String(), "Example")
		})
	}
	var stdout, stderr bytes.Buffer
	require.NoError(t, NewMain(strings.NewReader(""), &stdout, &stderr).Run(context.Background(), []string{"lens", "--help"}))
	assert.Contains(t, stderr.String(), "upload")
}
