// Package host runs StemeDB lenses: WebAssembly modules that pick the winners among the
// candidate assertions of a (subject, predicate). It validates modules, compiles them
// through wazero with an on-disk compilation cache, keeps a bounded pool of instances per
// lens, and speaks the lens ABI v1 (lenses-wasm/README.md) with time, memory and output
// limits. It knows nothing of SQL, HTTP or how assertions are stored: callers hand it
// Groups and get back candidate indices.
//
//	rt, err := host.NewRuntime(ctx, host.NewConfig().WithCompilationCacheDir(dir))
//	builtins, err := rt.LoadBuiltins(ctx)      // trusted, embedded module
//	upload, err := rt.Load(ctx, wasm)          // untrusted: validated, deadline per call
//	lens, err := builtins.Lens("Consensus")    // case-insensitive
//	winners, err := lens.Resolve(ctx, groups)  // [][]int, one slice per group
//
// Failures of a call are *LensError values naming the lens and wrapping ErrTrap,
// ErrTimeout, ErrOutOfMemory, ErrBadOutput or ErrLensReported; refused modules wrap
// ErrInvalidModule with the reason.
package host
