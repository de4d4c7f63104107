package host

// The lens ABI v1, host side. lenses-wasm/README.md is the specification; the guest side
// lives in lenses-wasm/sdk. The two are tested against each other, not shared, so that a
// change to one that the other misses fails a test instead of passing silently.

// ABIVersion is the only lens ABI version this host speaks.
const ABIVersion = 1

// Exports a lens module must have (besides its memory, exported as "memory").
const (
	exportMemory     = "memory"
	exportInitialize = "_initialize" // run once per instance: the module is a reactor
	exportStart      = "_start"      // refused: a command module exits after main
	exportABIVersion = "stemedb_abi_version"
	exportLenses     = "stemedb_lenses"
	exportAlloc      = "stemedb_alloc"
	exportResolve    = "stemedb_resolve"
)

// Status words that open a result region.
const (
	statusOK    = 0
	statusError = 1
)

// Fixed sizes of the input encoding, in bytes.
const (
	headerSize      = 16 // agent_count, group_count, candidate_count, signer_count
	agentSize       = 40 // id [32], trust f64
	groupHeaderSize = 12 // subject_len, predicate_len, candidate_count
	candidateSize   = 64 // hash [32], confidence f64, latest u64, up, down, object_len, signer_count
	signerSize      = 12 // agent_index u32, timestamp u64
)

// maxErrorMessage bounds how much of a guest's error message the host reads.
const maxErrorMessage = 1024

// wasiModule is the only import namespace a lens may use.
const wasiModule = "wasi_snapshot_preview1"

// allowedImport reports whether a lens may import the WASI function name: the ones Go's
// wasip1 runtime imports (with fmt and os linked). They touch no file system, network,
// real clock or real randomness: the host preopens no directory, and wazero's clock and
// random source are fake and deterministic by default. path_*, sock_* and file access
// such as fd_read or fd_seek are not here, so a module linking them is refused unrun.
func allowedImport(name string) bool {
	switch name {
	case "args_get", "args_sizes_get", "clock_res_get", "clock_time_get",
		"environ_get", "environ_sizes_get", "fd_close", "fd_fdstat_get",
		"fd_fdstat_set_flags", "fd_prestat_dir_name", "fd_prestat_get", "fd_write",
		"poll_oneoff", "proc_exit", "random_get", "sched_yield":
		return true
	}
	return false
}
