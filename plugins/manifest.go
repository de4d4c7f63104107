package plugins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stemedb/stemedb/host"
)

// manifestFormat is the version of the manifest's JSON layout. Any change to it, even
// an added field, takes a new number: an older server refuses what it cannot read rather
// than rewriting the file without the fields it does not know.
const manifestFormat = 1

// manifest is manifest.json: every uploaded name with its whole history. Built-ins are
// not in it (they come with the binary).
type manifest struct {
	Format int          `json:"format"`
	Lenses []lensRecord `json:"lenses"` // sorted by lower-case name
}

// lensRecord is one uploaded name.
type lensRecord struct {
	Name      string          `json:"name"`    // canonical spelling: the first upload's
	Live      int             `json:"live"`    // the live version; when deleted, the last one that was
	Deleted   bool            `json:"deleted"` // no version is live
	DeletedAt *time.Time      `json:"deleted_at,omitempty"`
	Versions  []versionRecord `json:"versions"` // oldest first, numbered 1, 2, ... without gaps
}

// versionRecord is one upload.
type versionRecord struct {
	Version      int       `json:"version"`
	Hash         string    `json:"hash"` // BLAKE3-256 of the module, lowercase hex: modules/<hash>.wasm
	Lens         string    `json:"lens"` // the lens inside the module that this version runs
	Size         int       `json:"size"` // bytes of the module
	UploadedAt   time.Time `json:"uploaded_at"`
	Materialized bool      `json:"materialized"`
	// Failed is why the registry took this version out of service after consecutive
	// failures; empty while it is in service.
	Failed   string     `json:"failed,omitempty"`
	FailedAt *time.Time `json:"failed_at,omitempty"`
}

// live returns the record's live version, or nil when the name is deleted.
func (l *lensRecord) live() *versionRecord {
	if l.Deleted {
		return nil
	}
	return &l.Versions[l.Live-1]
}

// readManifest reads the manifest in dir; a directory without one is an empty registry.
func readManifest(dir string) (manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return manifest{Format: manifestFormat}, nil
	}
	if err != nil {
		return manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	m, err := decodeManifest(b)
	if err != nil {
		return manifest{}, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	return m, nil
}

// writeManifest replaces the manifest in dir atomically.
func writeManifest(dir string, m manifest) error {
	b, err := encodeManifest(m)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := writeFileAtomic(dir, manifestName, b); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

func encodeManifest(m manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeManifest parses and checks a manifest. The file is only ever written whole by
// this package, so anything it refuses (ErrCorrupt) was damaged or edited by hand: Open
// stops rather than guess, since dropping a name would silently lose an upload.
func decodeManifest(b []byte) (manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return manifest{}, fmt.Errorf("%w: data after the manifest object", ErrCorrupt)
	}
	if err := m.check(); err != nil {
		return manifest{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}

// check enforces what the rest of the package assumes of a manifest.
func (m *manifest) check() error {
	if m.Format != manifestFormat {
		return fmt.Errorf("format %d, this server reads %d", m.Format, manifestFormat)
	}
	seen := make(map[string]bool, len(m.Lenses))
	for i := range m.Lenses {
		l := &m.Lenses[i]
		if !host.ValidLensName(l.Name) {
			return fmt.Errorf("lens %d: invalid name %q", i, l.Name)
		}
		key := strings.ToLower(l.Name)
		if isBuiltin(l.Name) {
			return fmt.Errorf("lens %q: a built-in's name", l.Name)
		}
		if seen[key] {
			return fmt.Errorf("lens %q: listed twice", l.Name)
		}
		seen[key] = true
		if len(l.Versions) == 0 {
			return fmt.Errorf("lens %q: no versions", l.Name)
		}
		if l.Live < 1 || l.Live > len(l.Versions) {
			return fmt.Errorf("lens %q: live version %d of %d", l.Name, l.Live, len(l.Versions))
		}
		if l.Deleted != (l.DeletedAt != nil) {
			return fmt.Errorf("lens %q: deleted and deleted_at disagree", l.Name)
		}
		for j := range l.Versions {
			v := &l.Versions[j]
			switch {
			case v.Version != j+1:
				return fmt.Errorf("lens %q: version %d at position %d", l.Name, v.Version, j+1)
			case !validHash(v.Hash):
				return fmt.Errorf("lens %q version %d: hash %q is not 64 lowercase hex digits", l.Name, v.Version, v.Hash)
			case !host.ValidLensName(v.Lens):
				return fmt.Errorf("lens %q version %d: invalid module lens name %q", l.Name, v.Version, v.Lens)
			case v.Size <= 0:
				return fmt.Errorf("lens %q version %d: size %d", l.Name, v.Version, v.Size)
			case (v.Failed != "") != (v.FailedAt != nil):
				return fmt.Errorf("lens %q version %d: failed and failed_at disagree", l.Name, v.Version)
			}
		}
	}
	return nil
}

// sortLenses orders records by lower-case name, the manifest's order.
func sortLenses(ls []lensRecord) {
	slices.SortFunc(ls, func(a, b lensRecord) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}

// isBuiltin reports whether name is a built-in lens's, ignoring case.
func isBuiltin(name string) bool {
	for _, b := range host.BuiltinNames() {
		if strings.EqualFold(b, name) {
			return true
		}
	}
	return false
}
