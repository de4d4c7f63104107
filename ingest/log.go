package ingest

import (
	"context"
	"fmt"

	"github.com/stemedb/stemedb/wal"
)

// Entry is one record of the log.
type Entry struct {
	// Offset is where the record starts; End is just past it, the offset readers wait for.
	Offset, End uint64
	// Payload is the record's payload; ingest does not keep it past the batch.
	Payload []byte
}

// Log is what ingest needs from the write-ahead log. It is small so that the log can be
// swapped (a replicated log, an in-memory fake in tests) without touching ingest.
type Log interface {
	// Tail returns a Tail whose first record is the one starting at from, a record
	// boundary that ingest stored earlier (0 for an empty database).
	Tail(from uint64) (Tail, error)
}

// Tail reads records in order.
type Tail interface {
	// Next returns the next durable record, blocking until one exists or ctx ends. It
	// never skips a record: a record it cannot read is an error.
	Next(ctx context.Context) (Entry, error)
	Close() error
}

// WAL adapts a *wal.Log to Log.
func WAL(l *wal.Log) Log { return walLog{l} }

type walLog struct{ l *wal.Log }

func (w walLog) Tail(from uint64) (Tail, error) {
	r, err := w.l.NewReader(from)
	if err != nil {
		return nil, fmt.Errorf("tail wal from %d: %w", from, err)
	}
	return walTail{r}, nil
}

type walTail struct{ r *wal.Reader }

func (t walTail) Next(ctx context.Context) (Entry, error) {
	rec, err := t.r.Next(ctx)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Offset: rec.Offset, End: rec.End, Payload: rec.Payload}, nil
}

func (t walTail) Close() error { return t.r.Close() }
