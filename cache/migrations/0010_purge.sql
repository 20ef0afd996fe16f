-- Retention by crypto-shredding (see purge.go). last_access_at is when the
-- study was last accessed in any audited way (opened in the app, rendered,
-- exported, imported, retrieved by sync, reported on): retention purges a
-- study not accessed for retention_days. Studies indexed before count from
-- their last reading, else from when they arrived.
ALTER TABLE studies ADD COLUMN last_access_at TEXT;
UPDATE studies SET last_access_at = COALESCE(last_read_at, created_at);

-- A purge under way: written in the transaction that takes the study out of
-- the index, removed once its key, files and remaining rows are gone. The
-- next open finishes what a crash interrupted.
CREATE TABLE purges (
    study_uid   TEXT PRIMARY KEY,
    files       TEXT NOT NULL, -- JSON array of the study's file paths, relative to files/
    bytes       INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL,
    started_at  TEXT NOT NULL
);
