package node

import (
	"log/slog"

	"github.com/stemedb/stemedb/plugins"
	"github.com/stemedb/stemedb/server"
	"github.com/stemedb/stemedb/sqlview"
)

// RecordedUploads is the registry the server is given, for tests.
func RecordedUploads(reg *plugins.Registry, views *sqlview.DB) server.LensRegistry {
	return recordedUploads{Registry: reg, views: views, log: slog.New(slog.DiscardHandler)}
}
