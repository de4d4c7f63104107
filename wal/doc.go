// Package wal is StemeDB's write-ahead log: a segmented, append-only log of opaque
// records with group commit, global byte offsets, crash recovery and tailing readers.
// It knows nothing about assertions, SQL or HTTP. This comment is the on-disk format
// (API.md §9) and the recovery contract; change neither without changing both.
//
// # Directory
//
// The log lives in one directory (the server uses <data-dir>/wal). In it:
//
//	00000000000000000000.wal   segments, named by the global offset of their first
//	00000000000000065536.wal   byte: 20 decimal digits + ".wal"
//	LOCK                       flock'ed by Open and Repair: one writer per directory
//	prepared-<n>.tmp           a zero-filled future segment (see Preallocation);
//	                           never data, deleted by Open
//	<segment>.broken-<offset>  bytes cut by Repair, kept for forensics
//	quarantine-<offset>/       segments moved out of the log by Repair
//
// Only files named like segments are part of the log; everything else is ignored by
// readers and by Open.
//
// # Records
//
// A segment is a plain concatenation of records, big-endian, with no file header, no
// padding and no alignment:
//
//	offset  size  field
//	0       4     len     payload length in bytes (u32)
//	4       4     crc     CRC-32C (Castagnoli) of hash || payload
//	8       32    hash    BLAKE3-256 of payload
//	40      len   payload opaque bytes (StemeDB's payload encoding is the assertion
//	                      package's business)
//
// A record takes 40+len bytes. Offsets are global byte positions: a record at offset O
// in the segment named B sits at byte O-B of that file, and the next record starts at
// O+40+len. The first segment starts at offset 0 (until retention deletes it), each
// later segment starts exactly where the previous one ends, and a record never spans
// two segments. A payload may be empty; its CRC is then the fixed non-zero value
// crc32c(blake3("")).
//
// The CRC catches torn and flipped bytes cheaply; the BLAKE3 hash makes a record's
// integrity independent of the CRC's 32 bits. Both are checked on every read.
//
// End of data: a header whose len and crc are both zero is not a record (no real
// record has it, see above) but the end of the data in a segment that was
// preallocated with zeros. It can only appear in the last segment, after a crash.
//
// # Writing and acknowledgement
//
// One committer goroutine writes; Append and AppendBatch queue records for it. Each
// turn it takes everything queued, writes it with one write(2) (several past 1 MiB),
// calls fdatasync once and only then acknowledges every record of the batch and
// advances the durable end. A returned Position is therefore always durable. Readers
// see only records below the durable end, so nothing derived from the log (ingest,
// SQLite views) can contain a record the log could still lose.
//
// The queue holds Options.QueueSize records. When it is full, Append waits for room
// until its context ends and then returns ErrOverloaded (nothing written). When a write
// or fdatasync fails, the batch fails with ErrFailed and so does every later append
// until the log is reopened: after a failed fsync Linux may have dropped the dirty pages,
// so a retry that "succeeds" could acknowledge data that is not on disk. Recovery on the
// next Open decides what survived.
//
// Rotation: before the record that would make the active segment exceed
// Options.SegmentSize (a record larger than that gets a segment of its own), the
// committer fsyncs the active segment, trims any preallocated zeros and fsyncs again,
// and only then creates the next segment (file fsynced, directory fsynced). So after a
// crash only the last segment can hold a torn write or zeros; sealed segments are
// exactly their records.
//
// # Recovery contract (Open)
//
//   - Only the last segment is scanned, so Open costs one segment's read (at most
//     SegmentSize plus one record) however long the log is.
//   - In the last segment, the first record that is incomplete, has a zero header, a
//     length above Options.MaxRecordSize, a bad CRC or a bad hash ends the log: it and
//     everything after it are truncated, the new size is fsynced, and the cut is logged
//     with its offsets (Info for preallocated zeros, Warn otherwise). Such bytes were
//     never acknowledged, unless the disk itself corrupted acknowledged data, which the
//     log cannot tell from a torn write.
//   - Sealed segments are not read by Open. Each of their records is verified whenever
//     it is read; a bad one is never skipped: the reader returns a *CorruptError (file,
//     offset, reason) and stays there. Only Repair (stemedb wal repair) truncates a
//     sealed segment, keeping a copy of what it cuts (see Repair).
//   - Recovery is idempotent, and appends continue at the recovered end.
//   - Leftover prepared-*.tmp files are deleted.
//
// Never lower Options.MaxRecordSize below a record already written: that record would
// read as corrupt (and, in the last segment, be truncated).
//
// # Reading
//
// A Reader starts at a record boundary and returns records in offset order, blocking
// for new durable records without polling: each durable advance closes a channel that
// waiting readers select on. It follows rotations, and reports ErrDeleted once its
// position falls below First() after DeleteBefore.
//
// # Preallocation
//
// By default the committer asks a background goroutine to fill the next segment with
// zeros (and fsync it) when the active one is half full, and renames that file into
// place at rotation; if it is not ready the committer creates an empty segment instead
// of waiting. Overwriting allocated blocks lets fdatasync skip the journal commit that
// growing a file needs. Measured on the development machine (ext4 on a virtual disk,
// shared): one 490-byte write+fdatasync ran at ~7,500/s appending and ~9,500/s over
// preallocated zeros (+25%); 64-record writes at ~8,000 vs ~9,300 fsyncs/s. Through the
// whole log (TestBenchTable, 64 MiB segments, 64 appenders, quiet disk) the difference
// was larger: ~200-260k appends/s with preallocation against ~130-195k/s without:
// from the first rotation on (half a second in, at that rate) no fdatasync has to
// commit the journal for a grown file. The price is the zero tail handled above, a trim at rotation
// and Close, and twice the bytes written to disk. Options.NoPreallocate turns it off.
// The segment that is active when the log is opened is not preallocated (Open never
// writes 64 MiB before serving). Once it has grown by 1 MiB the committer asks for a
// prepared file and seals the segment at the first batch after the file is ready, so a
// busy log reopened with 64 MiB segments does not grow a file for up to 64 MiB (the same
// holds for an empty segment made when no prepared file was ready). Segments of 2 MiB
// or less keep the half-full rule alone. Measured behind the HTTP server (server's
// TestBenchTable, io_uring): durable asserts at 0.84-0.85x a verify-only handler over
// preallocated segments against 0.79-0.81x over a growing one.
//
// # Flushing through io_uring
//
// On Linux the committer does not call fdatasync itself: it submits an IORING_OP_FSYNC
// (datasync) to a small io_uring of its own and waits on an eventfd that the runtime's
// poller watches, so the goroutine parks while a kernel worker flushes. A blocking
// fdatasync would hold the committer's OS thread and its Go processor for the whole
// flush; the scheduler only takes the processor back on a sysmon tick, so on a machine
// with few cores every fsync costs the other goroutines a core, and threads park and
// wake around it. An acknowledgement means the same thing either way: the flush of the
// whole file has completed, and its result is checked. Where io_uring is missing or
// refused (kernels before 5.4, kernel.io_uring_disabled, container seccomp profiles)
// Open logs why at Info and falls back to fdatasync; Options.NoIOUring chooses that.
// A ring that fails later without having flushed (submission, waiting, a completion
// saying the flush did not run) is dropped with a Warn and that flush is done with
// fdatasync; a flush that ran and failed fails the log as before, never retried.
// SyncMethod reports which is in use.
//
// What it is worth depends on what else wants the CPU. Measured on the 2-core
// development VM: behind the HTTP server, whose signature checks keep both cores busy
// (server's TestBenchTable, 64 clients), durable asserts ran at 0.81-0.86x the rate of a
// handler that skips the log (medians of five rounds, four runs), against 0.71-0.79x in
// the same runs with fdatasync and one processor more than cores (what stemedb serve
// then sets), and 0.66x with fdatasync at the same GOMAXPROCS (one earlier run). A bare log with appenders that do nothing else (wal's TestBenchTable) loses to
// the extra hop through the kernel worker: one appender 7.2k/s against 8.8k/s, 16
// appenders 87k/s against 112k/s, 64 appenders 211k/s against 267k/s (one run of
// TestBenchTable; both rows over preallocated segments).
//
// # Group commit and GOMAXPROCS=1
//
// The committer drains the whole queue each turn. Before sealing a batch smaller than
// the previous one it yields (runtime.Gosched), up to 16 times, stopping after two
// yields in which no record arrived: the appenders released by the previous fsync are
// runnable but the committer, readied by the first of them, tends to run first and
// would seal a batch of a few records (with GOMAXPROCS=1: one). With GOMAXPROCS=1 and
// 64 appenders the yields raise the mean batch from 13 to about 60 records
// (TestCommit_BatchesWithOneProcessor); on 2 cores, from about 29 to about 54. A yield
// with nothing else runnable costs well under a microsecond, so a lone appender does
// not wait. Pipelining the next batch's write with the previous fsync was considered
// and not built: with a closed loop of appenders the records written during an fsync
// are only those the fsync does not cover, so the two stages would split each group in
// half rather than grow it.
//
// # Retention and repair
//
// DeleteBefore removes whole segments that lie entirely below an offset every consumer
// has passed, oldest first, never the active one. Repair cuts the log at its first bad
// record: the segment's bytes from there go to <segment>.broken-<offset>, later
// segments move to quarantine-<offset>/, then the segment is truncated (in that order,
// so an interrupted repair loses nothing and can be rerun). Verify and Dump read the
// log without locking it.
package wal
