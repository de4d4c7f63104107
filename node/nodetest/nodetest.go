// Package nodetest starts real StemeDB servers for tests: a node on a loopback port,
// stopped and closed (with its errors checked) when the test ends.
package nodetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/node"
)

// Start opens a node with cfg (Addr defaults to a free loopback port) and serves it until
// the test ends; it returns the node and the server's base URL ("http://127.0.0.1:…").
func Start(t testing.TB, cfg node.Config) (*node.Node, string) {
	t.Helper()
	n, url, _ := StartStoppable(t, cfg)
	return n, url
}

// StartStoppable is Start that also returns stop, which shuts the server down gracefully
// and closes the node (checking both) before the test ends, e.g. to restart on the same
// data directory. Calling stop again, or the test's end, does nothing more.
func StartStoppable(t testing.TB, cfg node.Config) (n *node.Node, url string, stop func()) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.Open(ctx, cfg)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	ln, err := n.Listen()
	if err != nil {
		cancel()
		require.NoError(t, n.Close())
		require.NoError(t, err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
			require.NoError(t, n.Close())
		})
	}
	t.Cleanup(stop)
	return n, "http://" + ln.Addr().String(), stop
}
