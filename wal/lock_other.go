//go:build !unix

package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

const lockFileName = "LOCK"

// lockDir only creates the lock file where flock is not available: the directory is not
// protected against a second process there.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}
