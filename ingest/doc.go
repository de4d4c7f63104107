// Package ingest tails the write-ahead log into SQLite's base tables: it reads records
// from the last applied offset, decodes them, and applies their acts (API.md §1.3) in
// batched transactions that also store the new ingested offset.
//
// # Pipeline
//
// A read-ahead goroutine reads records (Log, Tail), decodes them and hashes their
// claims; the ingest goroutine (Run) takes whatever is waiting, up to
// Options.MaxBatchRecords records or Options.MaxBatchAssertions assertions, and applies
// it in one sqlview.DB.Write. A quiet log gives one-record batches (low latency); a busy
// one gives big batches (high throughput), with no timer involved.
//
// # Guarantees
//
//   - Exactly-once effect (ARCHITECTURE invariant 2): a batch's rows and its ingested
//     offset commit together, and Run resumes from the stored offset, so a crash at any
//     point neither loses nor doubles an act. Re-applying is harmless anyway: acts
//     combine by "latest wins" and a claim written twice is one assertion.
//   - Order independence: the combination rules are a function of the set of acts, not
//     of their order (tested over every permutation of a small log and random shuffles
//     of larger ones), so a rebuild, a replica or a re-ordered log reach the same tables.
//   - Never skip: a record that does not decode (ErrDecode) or a log that cannot be read
//     stops ingest with an error naming the offset, after applying everything before it.
//     Err and WaitApplied report it; fixing it is an operator's decision. Records of
//     kinds that other packages own (assertion.ErrUnknownKind) are not errors: they go to
//     Options.Foreign, or are passed over.
//   - A batch that fails to commit (disk full, I/O error) is rolled back and retried with
//     backoff; Err reports the failure meanwhile.
//
// # Waking readers
//
// WaitApplied blocks until an offset is applied, waking on each commit (no polling);
// Options.OnApplied is called after each commit, to wake the materializer.
package ingest
