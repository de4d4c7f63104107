package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/wal"
)

// runWAL runs `stemedb wal args...` in-process and returns stdout and stderr.
func runWAL(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := NewMain(strings.NewReader(""), &stdout, &stderr).Run(context.Background(), append([]string{"wal"}, args...))
	return stdout.String(), stderr.String(), err
}

func TestWALCommand(t *testing.T) {
	dataDir := t.TempDir()
	l, err := wal.Open(filepath.Join(dataDir, "wal"), wal.Options{SegmentSize: 300})
	require.NoError(t, err)
	var pos []wal.Position
	for i := range 10 {
		p, err := l.Append(context.Background(), bytes.Repeat([]byte{byte(i)}, 60))
		require.NoError(t, err)
		pos = append(pos, p)
	}
	require.NoError(t, l.Close())

	out, _, err := runWAL(t, "verify", "--data-dir", dataDir)
	require.NoError(t, err)
	require.Contains(t, out, "records:  10\n")
	require.Contains(t, out, "status:   ok\n")

	out, _, err = runWAL(t, "dump", "--data-dir", dataDir, "--from", "100", "--limit", "2")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3) // header + 2
	require.Equal(t, "100\t60\t"+strings.Repeat("01", 32)+"...", lines[1])

	// Damage a record in a sealed segment: verify names it, repair cuts it.
	seg := filepath.Join(dataDir, "wal", "00000000000000000000.wal")
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[pos[1].Offset+40] ^= 0xff // a payload byte of the second record
	require.NoError(t, os.WriteFile(seg, b, 0o644))

	out, _, err = runWAL(t, "verify", "--data-dir", dataDir)
	require.ErrorIs(t, err, wal.ErrCorrupt)
	require.Contains(t, err.Error(), seg)
	require.Contains(t, out, "CORRUPT at offset 100")

	out, _, err = runWAL(t, "repair", "--data-dir", dataDir)
	require.NoError(t, err)
	require.Contains(t, out, "cut "+seg+" at offset 100")
	require.Contains(t, out, "the log now ends at 100")

	out, _, err = runWAL(t, "verify", "--data-dir", dataDir)
	require.NoError(t, err)
	require.Contains(t, out, "records:  1\n")

	out, _, err = runWAL(t, "repair", "--data-dir", dataDir)
	require.NoError(t, err)
	require.Contains(t, out, "nothing to repair")
}

func TestWALCommand_Errors(t *testing.T) {
	_, _, err := runWAL(t, "verify", "--data-dir", filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "no log at")
	_, _, err = runWAL(t, "frobnicate")
	require.ErrorContains(t, err, "unknown subcommand")
	_, _, err = runWAL(t, "dump", "--limit", "-1", "--data-dir", t.TempDir())
	require.Error(t, err)
}

func TestWALCommand_HelpShowsExample(t *testing.T) {
	for _, sub := range [][]string{{"--help"}, {"verify", "--help"}, {"dump", "--help"}, {"repair", "--help"}} {
		t.Run(strings.Join(sub, " "), func(t *testing.T) {
			_, stderr, err := runWAL(t, sub...)
			require.Error(t, err)
			require.Contains(t, stderr, "Example:")
			require.Contains(t, stderr, "stemedb wal")
		})
	}
}
