package materialize

import (
	"context"
	"fmt"
)

// MaterializedOffset returns the materialized offset as last committed: `resolved`
// reflects every log record up to it.
func (m *Materializer) MaterializedOffset() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.offset
}

// WaitMaterialized blocks until the materialized offset is at least off, or ctx ends
// (then it returns ctx's error, wrapped). It is what a read with min_offset and wait_ms
// calls, with a ctx bounded by wait_ms. Waiters cost nothing while they wait: each
// advance closes one channel that all of them watch.
func (m *Materializer) WaitMaterialized(ctx context.Context, off uint64) error {
	for {
		m.mu.Lock()
		cur, advanced := m.offset, m.advanced
		m.mu.Unlock()
		if cur >= off {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return fmt.Errorf("wait for materialized offset %d (at %d): %w", off, cur, ctx.Err())
		}
	}
}

// publish makes off the materialized offset seen by MaterializedOffset and wakes the
// waiters. It is called after the commit that recorded off returned, so it never runs
// ahead of the disk. Offsets not above the current one are ignored.
func (m *Materializer) publish(off uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off <= m.offset {
		return
	}
	m.offset = off
	close(m.advanced)
	m.advanced = make(chan struct{})
}
