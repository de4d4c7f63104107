package node

import (
	"fmt"
	"path/filepath"

	"github.com/stemedb/stemedb/host"
)

// DefaultLensMemoryBytes caps each lens instance's memory (Config.LensMemoryBytes). A Go
// lens needs a few MiB for its runtime plus a few times the largest batch (4 MiB): 64 MiB
// leaves room for that while keeping the worst case of a full pool (one instance per core
// and lens) bounded.
const DefaultLensMemoryBytes = 64 << 20

// lensHostConfig is the lens sandbox as cfg sets it: memory per instance, deadline per
// call, input (and so output) per call, where compiled code is cached, which engine.
func lensHostConfig(cfg Config) (host.Config, error) {
	hc := host.NewConfig().WithCompilationCacheDir(filepath.Join(cfg.DataDir, "cache"))
	if cfg.LensCacheDir != "" {
		hc = hc.WithCompilationCacheDir(cfg.LensCacheDir)
	}
	mem := cfg.LensMemoryBytes
	if mem == 0 {
		mem = DefaultLensMemoryBytes
	}
	const page = 64 << 10
	if mem < page || mem > 65536*page {
		return hc, fmt.Errorf("lens memory %d bytes: want 64 KiB..4 GiB", mem)
	}
	hc = hc.WithMemoryLimitPages(uint32(mem / page))
	if cfg.LensCallTimeout != 0 {
		hc = hc.WithCallTimeout(cfg.LensCallTimeout)
	}
	if cfg.LensMaxBatchBytes != 0 {
		hc = hc.WithMaxBatchBytes(cfg.LensMaxBatchBytes)
	}
	if cfg.MaxModuleBytes > host.DefaultMaxModuleBytes {
		// The registry checks its own cap first; the host's must not be the smaller one.
		hc = hc.WithMaxModuleBytes(cfg.MaxModuleBytes)
	}
	return hc.WithInterpreter(cfg.LensInterpreter), nil
}
