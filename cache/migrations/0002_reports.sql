-- Reports (drafts and signed) and the outbox of signed SR documents.
CREATE TABLE reports (
    study_uid   TEXT NOT NULL,
    kind        TEXT NOT NULL, -- report or consult
    state       TEXT NOT NULL, -- draft, signed, addended
    body        TEXT NOT NULL, -- the report model as JSON (text, reader, events)
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (study_uid, kind)
);

-- One row per signed SR. The SR bytes are fixed at signing and never change,
-- so every delivery attempt sends the same instance with the same UID.
CREATE TABLE outbox (
    sop_uid          TEXT PRIMARY KEY,
    study_uid        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sr               BLOB NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending', -- pending, sending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX outbox_state ON outbox(state);
