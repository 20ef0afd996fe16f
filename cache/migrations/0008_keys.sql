-- The key hierarchy (see keys.go). key_master holds one row per generation of
-- the cache's master key: where it is kept (the OS keyring, or wrapped here by
-- a passphrase) and a check value that tells the right key from a wrong one.
-- Rotation adds a generation and retires the old one; a retired row lives
-- only until its keyring entry is deleted.
CREATE TABLE key_master (
    generation    INTEGER PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('current', 'retired')),
    keystore      TEXT NOT NULL CHECK (keystore IN ('keyring', 'passphrase')),
    cache_id      TEXT NOT NULL,
    kdf_time      INTEGER,
    kdf_memory    INTEGER,  -- KiB
    kdf_threads   INTEGER,
    salt          BLOB,
    wrapped       BLOB,     -- passphrase keystore: nonce || AES-256-GCM(master)
    check_value   BLOB NOT NULL,
    created       TEXT NOT NULL
);
CREATE UNIQUE INDEX key_master_current ON key_master(state) WHERE state = 'current';

-- Data keys wrapped by the master key of a generation: one per study (id is
-- an HMAC of the Study Instance UID, so the table names no study) and the
-- index root ('index') that the index's record key derives from.
CREATE TABLE data_keys (
    id          BLOB NOT NULL,
    generation  INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,  -- nonce || AES-256-GCM(data key), AAD id and generation
    created     TEXT NOT NULL,
    PRIMARY KEY (id, generation)
) WITHOUT ROWID;
