//go:build !linux

package wal

import (
	"fmt"
	"os"
)

// dataSync falls back to a full fsync where fdatasync is not available.
func dataSync(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	return nil
}

// writeBack does nothing where sync_file_range is missing: the final fsync writes the
// whole file back.
func writeBack(*os.File, int64, int64) error { return nil }
