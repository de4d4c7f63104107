// Package materialize keeps the `resolved` table up to date: for every dirty (subject,
// predicate) group and every materialized lens it calls the lens and writes the winners.
//
// # What is read, what is written
//
// Ingest marks a group dirty in the transaction that changes its candidates (sqlview:
// dirty_groups(group_id, since, offset); since is the ingested offset before the first
// change not yet materialized, offset the end of the record of the latest change). One
// goroutine, Run, walks the dirty groups by id in chunks. For each chunk it:
//
//  1. reads, in one read transaction of the read pool, the chunk's dirty marks
//     (DirtyGroupsAfter) and the groups' candidates (LoadGroups);
//  2. calls every materialized lens once on the whole chunk (Resolve), outside any
//     transaction;
//  3. in ONE write transaction: rewrites the changed `resolved` rows of every (lens,
//     group) that resolved (ReplaceResolvedMany: ReplaceResolved for a whole chunk of one
//     lens, reading the current rows in one statement; only rows that differ are
//     written), removes the dirty marks of the groups every lens resolved, each only if
//     it still carries the offset read in step 1 (ClearDirty), and, when the walk reaches
//     the end of the dirty set, records the materialized offset: CleanThrough, the
//     smallest since of the groups still dirty, or the ingested offset when none is
//     (SetMaterializedOffset). Only then is the new offset published to waiters.
//
// The walk is pipelined: chunk k+1 is read and resolved while chunk k commits.
//
// # Why a crash at any point neither loses nor doubles anything
//
// The dirty mark is the only record that a group needs work, and it is removed in the
// transaction that writes the group's rows, so either both happen or neither. A crash
// before the commit leaves the mark: the group is done again after restart, and since
// lenses are pure and ReplaceResolved writes only rows that differ, doing it again
// writes the same rows (no doubles). A group changed by ingest after step 1 carries a
// newer offset, so ClearDirty leaves its mark and the new change is not lost. The
// materialized offset is computed inside the write transaction from the marks that
// remain, so it never claims a group that is still dirty, and it is durable with the
// rows it describes. It only grows: since is never below the offset already recorded.
//
// Commits happen in the order of the reads, and the chunks of one walk hold different
// groups; walks (the dirty walk, backfills) take turns under one lock (see
// Materializer.work), each emptying its pipeline before handing over. So an older read
// of a group never overwrites the rows of a newer one.
//
// # Lens failures
//
// A lens that fails (a *host.LensError: trap, timeout, out of memory, garbage) fails
// only its own part. The chunk is split in halves and retried until the failing groups
// are isolated; the other lenses' rows and this lens's rows for the other groups commit.
// A group that a lens failed on keeps its dirty mark (so the failure survives a crash)
// and is retried with exponential backoff (Options.RetryMin to RetryMax), at once if its
// candidates change or the lens set changes. Until it succeeds, the materialized offset
// stays at or below that group's since: readers waiting for a newer offset time out
// (stale) rather than see an answer that is wrong for that lens. Stats shows the
// failures per lens and the groups held back. The cure is to fix or remove the lens.
//
// # Backfill
//
// A lens added to the set (a new upload, a new version) has no rows for groups that are
// not dirty. Backfill walks every group (ListGroups) in chunks with that lens alone; each
// chunk's transaction writes the rows and the backfill's cursor (sqlview state row
// backfill/<lens>), so an interrupted backfill resumes where it stopped when Run starts
// again. A group the lens fails on during a backfill is marked dirty, so that the
// incremental walk above retries it. While a lens is being backfilled, its rows are
// incomplete; Stats reports it.
package materialize
