package plugins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testManifest() manifest {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	failedAt := at.Add(time.Hour)
	return manifest{Format: manifestFormat, Lenses: []lensRecord{
		{Name: "Median", Live: 2, Versions: []versionRecord{
			{Version: 1, Hash: strings.Repeat("0a", 32), Lens: "Median", Size: 10, UploadedAt: at, Materialized: true},
			{Version: 2, Hash: strings.Repeat("1b", 32), Lens: "Mid", Size: 20, UploadedAt: at.Add(time.Minute),
				Failed: "3 consecutive failures", FailedAt: &failedAt},
		}},
		{Name: "old-one", Live: 1, Deleted: true, DeletedAt: &failedAt, Versions: []versionRecord{
			{Version: 1, Hash: strings.Repeat("2c", 32), Lens: "X", Size: 1, UploadedAt: at},
		}},
	}}
}

func TestManifest_RoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := testManifest()
	require.NoError(t, writeManifest(dir, want))
	got, err := readManifest(dir)
	require.NoError(t, err)
	require.Equal(t, want, got)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file left")

	empty, err := readManifest(t.TempDir())
	require.NoError(t, err)
	require.Equal(t, manifest{Format: manifestFormat}, empty, "no manifest: an empty registry")
}

// FuzzDecodeManifest: the manifest is read from disk, where anything may end up. The
// decoder must never panic, and whatever it accepts must satisfy check and survive an
// encode-decode round trip unchanged.
func FuzzDecodeManifest(f *testing.F) {
	good, err := encodeManifest(testManifest())
	require.NoError(f, err)
	for _, seed := range []string{
		string(good),
		`{"format":1,"lenses":[]}`,
		`{"format":1,"lenses":null}`,
		`{"format":1}`,
		`{}`,
		`null`,
		``,
		`{"format":1,"lenses":[{"name":"A","live":1,"deleted":false,"versions":[{"version":1,"hash":"` + strings.Repeat("f", 64) + `","lens":"A","size":1,"uploaded_at":"2025-01-01T00:00:00Z","materialized":false}]}]}`,
		`{"format":1,"lenses":[{"name":"A","live":0,"versions":[]}]}`,
		`{"format":1,"lenses":[{"name":"a","live":1,"versions":[{"version":1}]},{"name":"A","live":1,"versions":[{"version":1}]}]}`,
		`{"FORMAT":1,"Lenses":[]}`,
		`{"format":1,"lenses":[]} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		require.NoError(t, m.check())
		for _, l := range m.Lenses {
			live := l.live()
			if live != nil {
				require.Equal(t, l.Live, live.Version)
			}
		}
		enc, err := encodeManifest(m)
		require.NoError(t, err)
		again, err := decodeManifest(enc)
		require.NoError(t, err)
		enc2, err := encodeManifest(again)
		require.NoError(t, err)
		require.Equal(t, string(enc), string(enc2))
	})
}

func TestWriteFileAtomic_LeavesOldOnFailure(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	require.NoError(t, writeFileAtomic(dir, "f", []byte("old")))
	require.NoError(t, os.Chmod(dir, 0o500)) // no new files: the temp file cannot be made
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	require.Error(t, writeFileAtomic(dir, "f", []byte("new")))
	b, err := os.ReadFile(filepath.Join(dir, "f"))
	require.NoError(t, err)
	require.Equal(t, "old", string(b))
}
