// Package sqlview owns StemeDB's SQLite projection of the log: the schema and its
// migrations, the single writer, the read pool, the `resolved` table, and the reads that
// the query API and the materializer need. It is a projection only: every row can be
// rebuilt from the log (ARCHITECTURE invariant 1).
//
// # Connection discipline
//
// The database is one file, <data-dir>/stemedb.sqlite, in WAL journal mode (Open checks
// that the pragma answers "wal" and fails with ErrNotWAL otherwise). Every connection
// sets busy_timeout (Options.BusyTimeout; modernc's default of 0 would turn a brief lock
// into SQLITE_BUSY) and cache_size. Three pools:
//
//   - The writer: one connection, owned by one goroutine (ARCHITECTURE invariant 5).
//     DB.Write hands it a function to run in a BEGIN IMMEDIATE transaction; callers
//     queue in arrival order. synchronous=NORMAL: a power cut may lose the last commits
//     but never corrupts the file, and since ingest stores its log offset in the same
//     transaction as its rows, lost commits are simply applied again from the log.
//     Statements are prepared once and reused (Tx.ExecContext and friends).
//     foreign_keys is off: the writer is the only source of references and keeps
//     them itself, and a check would cost a lookup for every row ingest writes.
//   - Readers (DB.ReadDB): Options.ReadConns connections with query_only=1, so no SQL
//     given to them can write. WAL readers see a snapshot and never block the writer;
//     keep their transactions short, since an open one holds back checkpoints.
//     DB.BeginRead gives a read transaction whose statements are prepared once per
//     connection and reused (ReadTx); the package's own reads use it.
//   - A checkpointer: one connection that runs PASSIVE checkpoints in the background, at
//     most once per Options.CheckpointInterval while writes come in (see checkpoint.go).
//     The writer's wal_autocheckpoint is only a backstop.
//
// # Schema contract
//
// The schema version is PRAGMA user_version; the migrations are embedded
// (migrations/NNNN_name.sql) and applied in one transaction at Open. A file with a newer
// version than this build knows is refused (ErrSchemaTooNew). Released migrations are
// never edited.
//
// These names are pinned by API.md §6 and are what SQL users query. Hashes and agent ids
// are lowercase hex TEXT (signatures too).
//
//	assertions(hash, subject, predicate, object_type, object_value, confidence,
//	           source_hash, retracted, offset)                                 view
//	    object_type is the API type name ('Number'); object_value is REAL for Number,
//	    TEXT for String, Entity, Time (RFC 3339, UTC, as answers write it) and Json
//	    (canonical), INTEGER 0/1 for Boolean; source_hash is NULL when absent;
//	    retracted is 0/1; offset is the end of the log record that first wrote it.
//	signatures(assertion_hash, agent_id, signature, timestamp)                  view
//	    the current signers: each agent whose latest sign-or-retract act is a sign.
//	votes(assertion_hash, agent_id, vote, timestamp, signature)                 view
//	    the counted votes: each agent's latest vote, unless it is 0 (a withdrawal).
//	agents(agent_id, trust)                                                     view
//	    every agent seen in any act; trust defaults to 1.0.
//	resolved(lens, subject, predicate, assertion_hash, rank)                    view
//	    one row per winner of every materialized lens; lens is the canonical name,
//	    rank starts at 1 in the lens's order.
//
// The views read these internal tables. They are the project's own: read-only SQL
// (sqlview/readonly, docs/SQL.md) refuses them, and their shape may change between
// versions:
//
//	claim_groups(id, subject, predicate)       one row per (subject, predicate) ever seen;
//	                                           unique index on (subject, predicate), index
//	                                           on (predicate, id, subject)
//	assertion_rows(id, hash, group_id, object_type, object_value, confidence,
//	               source_hash, retracted, offset)
//	                                           unique index on hash, index on group_id
//	agent_rows(id, agent_id, trust)            unique agent_id
//	sign_acts(assertion_id, agent, retract, timestamp, signature)
//	                                           the latest sign (retract=0) or retract
//	                                           (retract=1) act per (assertion, agent);
//	                                           WITHOUT ROWID; index on (agent, assertion_id)
//	vote_acts(assertion_id, agent, vote, timestamp, signature)
//	                                           the latest vote per (assertion, agent), 0
//	                                           kept so an older vote cannot come back
//	pending_acts(hash, kind, agent, vote, timestamp, signature)
//	                                           votes (kind 2) and retractions (kind 1) whose
//	                                           assertion has not arrived; moved into the
//	                                           act tables when it does
//	lens_names(id, name)                       the lenses that have rows in resolved_rows
//	resolved_rows(lens_id, group_id, rank, assertion_id)
//	                                           WITHOUT ROWID, keyed in that order
//	dirty_groups(group_id, since, offset)      groups waiting for the materializer
//	state(key, value)                          ingested_offset, materialized_offset,
//	                                           assertion_count
//
// Why this layout: ingest must keep up with about 20k assertions a second, and in SQLite
// the cost of a row is the B-tree pages it dirties. Rows get growing integer ids, so the
// tables and the act tables (keyed by assertion id) append; the only random inserts of a
// new assertion are its hash index entry and, for a new (subject, predicate), the
// (subject, predicate) index. The predicate index is in arrival order for the same
// reason (queries by predicate alone sort the predicate's groups, which their
// total_count visits anyway). resolved_rows is keyed by group id, so a new group's
// winners append at the end of each lens's range. Text keys stay where SQL users filter
// (hash, agent_id, subject, predicate) so that the views use indexes.
//
// # Writing: ingest and the materializer
//
// Applier applies decoded log records (API.md §1.3) and records the ingested offset in
// the same transaction; it marks dirty every group whose candidates changed (a new
// assertion, a changed signer, a retraction, a changed vote). The materializer:
//
//  1. reads DirtyGroupsAfter (a walk by group id) and LoadGroups in one read
//     transaction (or in its write transaction);
//  2. in one Write: ReplaceResolvedMany for each lens over the chunk, ClearDirty with the groups
//     as read (a group changed since stays dirty), then SetMaterializedOffset with
//     CleanThrough: the smallest Since of the groups still dirty, or the ingested
//     offset when none is.
//
// # Reading
//
// DB.QueryWinners (GET /v1/query) and DB.GetAssertion (GET /v1/assertions/{hash}) read
// one snapshot each and return Assertion values, whose AppendJSON writes the <assertion>
// object of API.md §4. DB.State feeds GET /v1/status.
package sqlview
