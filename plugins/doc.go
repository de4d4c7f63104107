// Package plugins is StemeDB's lens registry: the built-in lenses and uploaded ones side
// by side, uploads validated before they are stored, kept content-addressed, versioned.
//
// It hands out host.Resolvers to the query path and the materializer and tells them when
// the set changes (Subscribe); it knows nothing of HTTP or SQL.
//
// # Names
//
// Lens names match [A-Za-z][A-Za-z0-9_-]{0,63} and are compared ignoring case. The six
// built-ins (host.BuiltinNames) come with the binary: version 1, hash = BLAKE3-256 of
// the embedded module, always materialized; uploads may not take their names
// (ErrBuiltin), nor delete them. An uploaded name's canonical spelling is its first
// upload's.
//
// # Directory
//
// The registry lives in one directory (the server uses <data-dir>/lenses):
//
//	manifest.json             every uploaded name and its history (below)
//	modules/<hash>.wasm       uploaded modules, named by the lowercase hex BLAKE3-256
//	                          of their bytes; one file however many names and
//	                          versions use it
//	.tmp-*, modules/.tmp-*    writes that did not finish; deleted by Open
//
// The manifest is JSON, format 1:
//
//	{"format": 1, "lenses": [{
//	  "name": "Median", "live": 2, "deleted": false,
//	  "versions": [
//	    {"version": 1, "hash": "<64 hex>", "lens": "Median", "size": 2031744,
//	     "uploaded_at": "2025-01-02T03:04:05.123Z", "materialized": true},
//	    {"version": 2, ..., "failed": "3 consecutive failures, the last: ...",
//	     "failed_at": "..."}]}]}
//
// Versions are numbered from 1 without gaps; "live" is the version in service (when
// "deleted", the last one that was); "lens" is the lens inside the module that the
// version runs. Any change to the layout takes a new format number, and a manifest this
// package cannot fully read stops Open (ErrCorrupt) rather than lose an upload.
//
// # Crash safety
//
// Every file is written whole: to a temp file in the same directory, fsynced, renamed
// over its name, and the directory fsynced. An upload stores its module before the
// manifest that names it, so a crash leaves either the old manifest and a module file
// nothing names (Open deletes it) or the new manifest with its module in place; never a
// version without its module. Upload returns only after the manifest is durable. A
// refused upload writes nothing: every check runs on the bytes in memory first.
//
// # Decisions
//
//   - A module may hold several lenses; an upload installs the one called like the
//     upload, else the module's only one, else it is refused (Upload, pickLens).
//   - Delete keeps the name's history and its module files: nothing is garbage-collected
//     but what no manifest version names. Old versions stay auditable and can serve a
//     future "as of" query; a module is ~2 MB.
//   - An uploaded lens that fails Options.MaxFailures calls in a row (as reported to
//     ReportFailure) is marked failed in the manifest, so it stays out of service across
//     restarts until the name is uploaded again. A module that cannot be loaded (file
//     missing or damaged at once; refused by the host MaxFailures times in a row, e.g.
//     after its limits were lowered) is out of service in memory only, until the next
//     Open: that is the machine's state, not the lens's, and may be fixed without an
//     upload.
//   - Uploaded modules load on first use, compiled through the runtime's compilation
//     cache; the version an upload checked stays loaded. Built-ins load at Open.
//
// The registry does not lock its directory: the node must keep a second process out of
// the data directory (for instance by opening the log, which locks, first).
package plugins
