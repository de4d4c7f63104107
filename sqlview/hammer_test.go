package sqlview_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview"
)

// TestHammer runs writers (through the one writer goroutine) and readers at once:
// writes serialize without loss, and readers always see a committed, consistent state.
func TestHammer(t *testing.T) {
	db := openDB(t, sqlview.Options{ReadConns: 3})
	ctx := context.Background()
	const writers, writes = 4, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range writes {
				err := db.Write(ctx, func(tx *sqlview.Tx) error {
					// Two statements that readers must only ever see together.
					if _, err := tx.ExecContext(ctx, `UPDATE state SET value = value + 1 WHERE key = 'ingested_offset'`); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE state SET value = value + 1 WHERE key = 'materialized_offset'`)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	var rwg sync.WaitGroup
	for range 3 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				st, err := db.State(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if st.IngestedOffset != st.MaterializedOffset {
					t.Errorf("torn read: %+v", st)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	st, err := db.State(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(writers*writes), st.IngestedOffset)
}
