package host

import (
	"runtime"
	"time"
)

// Defaults of Config.
const (
	// DefaultMemoryLimitPages caps each instance's memory: 2048 pages of 64 KiB = 128 MiB.
	DefaultMemoryLimitPages = 2048
	// DefaultMaxModuleBytes caps a module's size. A Go lens is about 2 MB.
	DefaultMaxModuleBytes = 16 << 20
	// DefaultCallTimeout bounds one call into an untrusted module (and its start-up).
	DefaultCallTimeout = 5 * time.Second
	// DefaultMaxBatchBytes caps the encoded input of one call; Resolve splits larger
	// inputs into several calls.
	DefaultMaxBatchBytes = 4 << 20
)

// Config configures a Runtime. It is immutable: each With method returns a changed copy,
// and nothing is checked until NewRuntime, so a chain never returns an error.
//
//	cfg := host.NewConfig().WithCompilationCacheDir(dir).WithCallTimeout(time.Second)
type Config struct {
	cacheDir         string
	memoryLimitPages uint32
	recyclePages     uint32
	maxModuleBytes   int
	callTimeout      time.Duration
	poolSize         int
	maxBatchBytes    int
	interpreter      bool
}

// NewConfig returns the default configuration.
func NewConfig() Config {
	return Config{
		memoryLimitPages: DefaultMemoryLimitPages,
		maxModuleBytes:   DefaultMaxModuleBytes,
		callTimeout:      DefaultCallTimeout,
		poolSize:         runtime.GOMAXPROCS(0),
		maxBatchBytes:    DefaultMaxBatchBytes,
	}
}

// WithCompilationCacheDir keeps compiled machine code in dir, so that a module compiles
// once per machine rather than once per process (a Go lens: ~0.5 s cold, ~30 ms cached).
// Defaults to no directory: compiled code is cached in memory for the Runtime's life.
//
// # Notes
//   - Trusted and untrusted modules are cached in separate subdirectories: their machine
//     code differs (termination checks), and wazero's cache key does not tell them apart.
func (c Config) WithCompilationCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithMemoryLimitPages caps each instance's linear memory, in 64 KiB pages. A module that
// declares a larger minimum is refused. Defaults to DefaultMemoryLimitPages.
func (c Config) WithMemoryLimitPages(pages uint32) Config { c.memoryLimitPages = pages; return c }

// WithRecycleAbovePages retires an instance after a call that leaves its memory larger
// than pages: a Go guest's memory never shrinks, so a one-off large batch would otherwise
// pin it for good. Defaults to 0, meaning three quarters of the memory limit.
func (c Config) WithRecycleAbovePages(pages uint32) Config { c.recyclePages = pages; return c }

// WithMaxModuleBytes caps the size of a module's binary. Defaults to DefaultMaxModuleBytes.
func (c Config) WithMaxModuleBytes(n int) Config { c.maxModuleBytes = n; return c }

// WithCallTimeout bounds each call into an untrusted module, including its start-up; the
// caller's context deadline applies as well when earlier. Trusted modules have only the
// caller's context, checked between calls. Defaults to DefaultCallTimeout.
func (c Config) WithCallTimeout(d time.Duration) Config { c.callTimeout = d; return c }

// WithPoolSize caps the instances of each lens, hence the concurrent calls into it.
// Instances start lazily. Defaults to GOMAXPROCS at NewConfig.
func (c Config) WithPoolSize(n int) Config { c.poolSize = n; return c }

// WithMaxBatchBytes caps the encoded input of one call. A single group larger than this
// still goes in a call of its own. Defaults to DefaultMaxBatchBytes.
func (c Config) WithMaxBatchBytes(n int) Config { c.maxBatchBytes = n; return c }

// WithInterpreter runs modules in wazero's interpreter instead of its compiler: no
// compile cost, much slower calls. Defaults to false (the compiler where wazero has one).
func (c Config) WithInterpreter(on bool) Config { c.interpreter = on; return c }

// recycleAbove is the memory size in bytes past which an instance is retired.
func (c Config) recycleAbove() uint64 {
	pages := c.recyclePages
	if pages == 0 {
		pages = c.memoryLimitPages / 4 * 3
	}
	return uint64(pages) * 65536
}
