package sqlview

import "errors"

// Sentinel errors. Test for them with errors.Is; returned errors wrap them with the
// operation that failed.
var (
	// ErrClosed is returned by every call on a DB after Close.
	ErrClosed = errors.New("sqlview: closed")

	// ErrNotFound is returned for an unknown assertion.
	ErrNotFound = errors.New("sqlview: not found")

	// ErrSchemaTooNew is returned by Open for a database whose schema version is newer
	// than any migration this build knows: it was written by a newer StemeDB. Upgrade
	// the binary, or drop the file and rebuild it from the log.
	ErrSchemaTooNew = errors.New("sqlview: database schema is newer than this build")

	// ErrNotWAL is returned by Open when SQLite refuses to put the database in WAL
	// journal mode (e.g. on a file system without shared memory), without which readers
	// would block the writer.
	ErrNotWAL = errors.New("sqlview: journal mode is not wal")

	// ErrNotCandidate is returned by ReplaceResolved for a winner that is not one of the
	// group's candidates: the lens answered with a hash it was not given.
	ErrNotCandidate = errors.New("sqlview: winner is not a candidate of the group")
)
