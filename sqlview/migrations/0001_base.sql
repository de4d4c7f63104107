-- 0001: base tables, the pinned views of API.md §6, resolved, bookkeeping.
--
-- Write cost drives the layout: every new assertion costs one random insert into
-- the hash index and, for a new (subject, predicate), one into the (subject,
-- predicate) index; everything else appends (rowids and group ids only grow). Hashes and
-- agent ids are stored as lowercase hex TEXT where SQL users filter on them, so
-- that `WHERE hash = '…'` uses an index through the views.

-- One row per (subject, predicate) ever seen. TEXT compares bytewise (BINARY),
-- which is the order API.md §4 asks for. The predicate index is in arrival order
-- (id), not subject order: a new group then appends at the end of its predicate's
-- range instead of landing at a random place, which measured a third faster ingest
-- of new subjects; it covers subject so that queries by predicate sort without
-- reading the table.
CREATE TABLE claim_groups (
	id        INTEGER PRIMARY KEY,
	subject   TEXT NOT NULL,
	predicate TEXT NOT NULL
);
CREATE UNIQUE INDEX claim_groups_by_subject ON claim_groups (subject, predicate);
CREATE INDEX claim_groups_by_predicate ON claim_groups (predicate, id, subject);

-- One row per assertion, retracted or not. object_value has no declared type, so
-- it keeps the storage class it was written with (REAL, TEXT or INTEGER).
CREATE TABLE assertion_rows (
	id           INTEGER PRIMARY KEY,
	hash         TEXT NOT NULL,
	group_id     INTEGER NOT NULL,
	object_type  TEXT NOT NULL,
	object_value,
	confidence   REAL NOT NULL,
	source_hash  TEXT,
	retracted    INTEGER NOT NULL DEFAULT 0,
	"offset"     INTEGER NOT NULL
);
CREATE UNIQUE INDEX assertion_rows_by_hash ON assertion_rows (hash);
CREATE INDEX assertion_rows_by_group ON assertion_rows (group_id);

-- Every agent seen in any act. trust defaults to 1.0 (API.md §4 TrustWeighted).
CREATE TABLE agent_rows (
	id       INTEGER PRIMARY KEY,
	agent_id TEXT NOT NULL UNIQUE,
	trust    REAL NOT NULL DEFAULT 1.0
);

-- The latest sign-or-retract act per (assertion, agent) (API.md §1.3).
-- retract: 0 = sign (the agent is a signer), 1 = retract.
CREATE TABLE sign_acts (
	assertion_id INTEGER NOT NULL,
	agent        INTEGER NOT NULL,
	retract      INTEGER NOT NULL,
	"timestamp"  INTEGER NOT NULL,
	signature    BLOB NOT NULL,
	PRIMARY KEY (assertion_id, agent)
) WITHOUT ROWID;
CREATE INDEX sign_acts_by_agent ON sign_acts (agent, assertion_id);

-- The latest vote per (assertion, agent); vote 0 is a withdrawal and is kept so
-- that an older vote arriving later cannot come back.
CREATE TABLE vote_acts (
	assertion_id INTEGER NOT NULL,
	agent        INTEGER NOT NULL,
	vote         INTEGER NOT NULL,
	"timestamp"  INTEGER NOT NULL,
	signature    BLOB NOT NULL,
	PRIMARY KEY (assertion_id, agent)
) WITHOUT ROWID;

-- Votes and retractions whose assertion has not arrived yet, latest per
-- (hash, kind, agent). kind: 1 = retract, 2 = vote. Moved into sign_acts and
-- vote_acts when the assertion arrives.
CREATE TABLE pending_acts (
	hash        TEXT NOT NULL,
	kind        INTEGER NOT NULL,
	agent       INTEGER NOT NULL,
	vote        INTEGER NOT NULL,
	"timestamp" INTEGER NOT NULL,
	signature   BLOB NOT NULL,
	PRIMARY KEY (hash, kind, agent)
) WITHOUT ROWID;

-- Lens names as resolved_rows refers to them.
CREATE TABLE lens_names (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

-- One row per winner of every materialized lens. New groups get growing ids, so
-- their rows append at the end of each lens's range.
CREATE TABLE resolved_rows (
	lens_id      INTEGER NOT NULL,
	group_id     INTEGER NOT NULL,
	rank         INTEGER NOT NULL,
	assertion_id INTEGER NOT NULL,
	PRIMARY KEY (lens_id, group_id, rank)
) WITHOUT ROWID;

-- Groups whose candidates changed since they were last materialized. since is
-- the ingested offset before the first unmaterialized change, offset the end of
-- the latest one.
CREATE TABLE dirty_groups (
	group_id INTEGER PRIMARY KEY,
	since    INTEGER NOT NULL,
	"offset" INTEGER NOT NULL
);

-- Counters and offsets, one row each.
CREATE TABLE state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO state (key, value) VALUES
	('ingested_offset', 0),
	('materialized_offset', 0),
	('assertion_count', 0);

-- The queryable names of API.md §6.
CREATE VIEW assertions AS
SELECT a.hash, g.subject, g.predicate, a.object_type, a.object_value, a.confidence,
       a.source_hash, a.retracted, a."offset"
FROM assertion_rows AS a
JOIN claim_groups AS g ON g.id = a.group_id;

CREATE VIEW signatures AS
SELECT a.hash AS assertion_hash, ag.agent_id, lower(hex(s.signature)) AS signature,
       s."timestamp"
FROM sign_acts AS s
JOIN assertion_rows AS a ON a.id = s.assertion_id
JOIN agent_rows AS ag ON ag.id = s.agent
WHERE s.retract = 0;

CREATE VIEW votes AS
SELECT a.hash AS assertion_hash, ag.agent_id, v.vote, v."timestamp",
       lower(hex(v.signature)) AS signature
FROM vote_acts AS v
JOIN assertion_rows AS a ON a.id = v.assertion_id
JOIN agent_rows AS ag ON ag.id = v.agent
WHERE v.vote <> 0;

CREATE VIEW agents AS
SELECT agent_id, trust FROM agent_rows;

CREATE VIEW resolved AS
SELECT l.name AS lens, g.subject, g.predicate, a.hash AS assertion_hash, r.rank
FROM resolved_rows AS r
JOIN lens_names AS l ON l.id = r.lens_id
JOIN claim_groups AS g ON g.id = r.group_id
JOIN assertion_rows AS a ON a.id = r.assertion_id;
