package plugins

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zeebo/blake3"
)

// Names inside the registry directory (see doc.go).
const (
	manifestName = "manifest.json"
	modulesDir   = "modules"
	moduleExt    = ".wasm"
	tmpPrefix    = ".tmp-"
)

// moduleStore keeps module binaries content-addressed: modules/<blake3 hex>.wasm. A file
// is only ever created whole (temp file, fsync, rename, fsync of the directory), so a file
// with a module name holds the bytes of its name unless the disk corrupted them, which
// get checks.
type moduleStore struct {
	dir string // <registry>/modules
}

// hashHex is the lowercase hex BLAKE3-256 of wasm: the module's identity.
// ModuleHash is a module's content address: the lowercase hex BLAKE3-256 of its bytes,
// the name of its file and the "hash" the API reports.
func ModuleHash(wasm []byte) string {
	sum := blake3.Sum256(wasm)
	return hex.EncodeToString(sum[:])
}

// validHash reports whether s is 64 lowercase hex digits, the only form the registry
// writes (so that one module has one file name).
func validHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (s moduleStore) path(hash string) string { return filepath.Join(s.dir, hash+moduleExt) }

// put stores wasm under its hash. An identical file already there (the same module
// uploaded under another name or version) is kept as it is.
func (s moduleStore) put(hash string, wasm []byte) error {
	old, err := os.ReadFile(s.path(hash))
	switch {
	case err == nil && bytes.Equal(old, wasm):
		return nil
	case err == nil:
		// A damaged copy: replace it whole; every version naming the hash wants these bytes.
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store module %s: %w", hash, err)
	}
	if err := writeFileAtomic(s.dir, hash+moduleExt, wasm); err != nil {
		return fmt.Errorf("store module %s: %w", hash, err)
	}
	return nil
}

// get reads the module called hash and checks that its bytes still hash to its name.
func (s moduleStore) get(hash string) ([]byte, error) {
	wasm, err := os.ReadFile(s.path(hash))
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", hash, err)
	}
	if got := ModuleHash(wasm); got != hash {
		return nil, fmt.Errorf("read module %s: %w: the file's bytes hash to %s", hash, ErrCorrupt, got)
	}
	return wasm, nil
}

// remove deletes the module called hash; a missing file is not an error.
func (s moduleStore) remove(hash string) error {
	if err := os.Remove(s.path(hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove module %s: %w", hash, err)
	}
	return syncDir(s.dir)
}

// sweep deletes the module files no manifest version refers to (left by a crash between
// storing a module and writing the manifest that names it) and temp files of writes that
// never finished. Files the registry did not name are left alone.
func (s moduleStore) sweep(keep map[string]bool) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sweep modules: %w", err)
	}
	removed := false
	for _, e := range entries {
		name := e.Name()
		hash, isModule := strings.CutSuffix(name, moduleExt)
		orphan := isModule && validHash(hash) && !keep[hash]
		if !orphan && !strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep modules: %w", err)
		}
		removed = true
	}
	if !removed {
		return nil
	}
	return syncDir(s.dir)
}

// sweepTemp deletes the temp files of unfinished writes in dir.
func sweepTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("sweep %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sweep %s: %w", dir, err)
		}
	}
	return nil
}

// writeFileAtomic makes dir/name hold data or leaves it as it was: data goes to a temp
// file in the same directory, is fsynced, renamed over name, and the directory is
// fsynced so that the rename itself survives a crash.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // already closed on the happy path; a second Close is harmless
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
