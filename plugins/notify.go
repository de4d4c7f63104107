package plugins

import "context"

// subscribers are the channels of Subscribe, guarded by Registry.mu.
type subscribers struct {
	chans map[chan struct{}]struct{}
}

// Subscribe returns a channel that receives a value after the set of lenses in service
// changes: an upload (new name or new version), a delete, a lens marked failed. Signals
// coalesce (the channel holds one), so a receiver looks at the registry again
// (Materialized, List) rather than counting them. The channel is closed when ctx is done
// or the registry closes.
func (r *Registry) Subscribe(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		close(ch)
		return ch
	}
	if r.subs.chans == nil {
		r.subs.chans = map[chan struct{}]struct{}{}
	}
	r.subs.chans[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.subs.chans[ch]; ok {
			delete(r.subs.chans, ch)
			close(ch)
		}
	})
	return ch
}

// notify signals every subscriber without waiting for any.
func (r *Registry) notify() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for ch := range r.subs.chans {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// closeAll ends every subscription. Call with Registry.mu held for writing.
func (s *subscribers) closeAll() {
	for ch := range s.chans {
		close(ch)
	}
	s.chans = nil
}
