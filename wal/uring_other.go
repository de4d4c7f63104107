//go:build !linux

package wal

import (
	"errors"
	"os"
)

// ringSyncer exists only on Linux; elsewhere the committer always calls dataSync.
type ringSyncer struct{}

func newRingSyncer() (*ringSyncer, error) {
	return nil, errors.New("io_uring is Linux only")
}

func (*ringSyncer) dataSync(*os.File) error { return errors.New("io_uring is Linux only") }

func (*ringSyncer) close() {}
