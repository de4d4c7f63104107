package materialize

import (
	"maps"
	"time"
)

// Stats is what the materializer has done since New; counters only grow.
type Stats struct {
	// MaterializedOffset is the committed materialized offset.
	MaterializedOffset uint64
	// Chunks is the number of write transactions that committed rows (dirty walk and
	// backfills).
	Chunks uint64
	// GroupsMaterialized counts groups whose dirty mark the walk removed (or found
	// changed again, to be done once more).
	GroupsMaterialized uint64
	// HeldBack is the number of groups currently kept dirty by a lens failure, waiting
	// for their retry.
	HeldBack int
	// Results counts (lens, group) results written; ResultsChanged those whose rows
	// differed, the others were left untouched (ReplaceResolved wrote nothing).
	Results, ResultsChanged uint64
	// WinnerRows is the number of winner rows the lenses returned; RowsWritten the
	// `resolved` rows actually inserted, updated or deleted for them. WinnerRows minus
	// RowsWritten is (at least) the rows skipped as already right; exactly that when no
	// group lost winners.
	WinnerRows, RowsWritten uint64
	// LoadTime, ResolveTime and CommitTime split the wall time of the chunks: reading
	// candidates, calling the lenses (all in parallel), and the write transaction.
	LoadTime, ResolveTime, CommitTime time.Duration
	// Errors counts storage errors (each retried); LastError is the latest.
	Errors    uint64
	LastError string
	// Lenses holds per-lens counters, by canonical name.
	Lenses map[string]LensStats
	// Backfills holds the progress of each backfill started since New, by lens.
	Backfills map[string]BackfillStats
}

// RowsSkipped is WinnerRows - RowsWritten, floored at 0: the winner rows that were
// already right and were not written.
func (s Stats) RowsSkipped() uint64 {
	if s.RowsWritten > s.WinnerRows {
		return 0
	}
	return s.WinnerRows - s.RowsWritten
}

// LensStats counts one lens's calls.
type LensStats struct {
	// Calls is the number of Resolve calls, the retries of a failed batch's halves
	// included.
	Calls uint64
	// Groups is the number of groups the lens resolved.
	Groups uint64
	// Failures is the number of groups the lens failed on (each is retried later);
	// FailedCalls the calls that failed.
	Failures, FailedCalls uint64
	// LastError is the latest failure's message, LastErrorAt its time.
	LastError   string
	LastErrorAt time.Time
	// ResolveTime is the time spent in the lens's calls.
	ResolveTime time.Duration
}

// BackfillStats is the progress of a backfill.
type BackfillStats struct {
	Done, Total int64 // groups done, of the groups there were when it started
	Running     bool
	Finished    bool   // every group was done
	LastError   string // why it stopped, if it did not finish
}

// Stats returns a copy of the counters.
func (m *Materializer) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.MaterializedOffset = m.offset
	s.Lenses = maps.Clone(m.stats.Lenses)
	s.Backfills = maps.Clone(m.stats.Backfills)
	return s
}

func (m *Materializer) addLensStats(lens string, d LensStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats.Lenses[lens]
	s.Calls += d.Calls
	s.Groups += d.Groups
	s.Failures += d.Failures
	s.FailedCalls += d.FailedCalls
	if d.LastError != "" {
		s.LastError, s.LastErrorAt = d.LastError, d.LastErrorAt
	}
	s.ResolveTime += d.ResolveTime
	m.stats.Lenses[lens] = s
}

// chunkStats is what one chunk adds to Stats.
type chunkStats struct {
	groups                  int
	results, changed        int
	winnerRows, rowsWritten int64
	load, resolve, commit   time.Duration
}

func (m *Materializer) addChunkStats(c chunkStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.Chunks++
	m.stats.GroupsMaterialized += uint64(c.groups)
	m.stats.Results += uint64(c.results)
	m.stats.ResultsChanged += uint64(c.changed)
	m.stats.WinnerRows += uint64(c.winnerRows)
	m.stats.RowsWritten += uint64(c.rowsWritten)
	m.stats.LoadTime += c.load
	m.stats.ResolveTime += c.resolve
	m.stats.CommitTime += c.commit
	m.stats.HeldBack = m.retries.len()
}
