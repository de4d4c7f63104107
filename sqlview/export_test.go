package sqlview

// MaxReadStmts is maxReadStmts, for tests.
const MaxReadStmts = maxReadStmts

// PreparedReads is the number of statements cached on the read pool.
func (db *DB) PreparedReads() int {
	db.rstmts.mu.Lock()
	defer db.rstmts.mu.Unlock()
	return len(db.rstmts.stmts)
}
