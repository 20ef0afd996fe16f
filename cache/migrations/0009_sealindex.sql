-- Identifying values in the index are sealed from now on (recordseal.go).
-- Patient rows are told apart by a keyed hash of issuer, Patient ID and name
-- (identity) and looked up for priors by a keyed hash of the Patient ID
-- (patient_key), since sealed values, each with its own nonce, cannot be
-- compared. The old UNIQUE (patient_id, name) stays: dropping it means
-- rebuilding a table that studies reference, and over sealed values it never
-- matches.
ALTER TABLE patients ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN identity BLOB;
ALTER TABLE patients ADD COLUMN patient_key BLOB;
CREATE UNIQUE INDEX patients_identity ON patients(identity);
CREATE INDEX patients_key ON patients(patient_key);
-- The SR bytes were a BLOB already: sr_format tells the plain ones (0, written
-- before) from the sealed ones (1).
ALTER TABLE outbox ADD COLUMN sr_format INTEGER NOT NULL DEFAULT 0;
-- The rows written before are sealed after the migration, in batches that a
-- restart resumes (sealIndex, indexseal.go); then the file is vacuumed and the
-- WAL truncated so that no plain copy stays in free pages. scrubbed records
-- that this was done.
CREATE TABLE index_seal (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    scrubbed  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO index_seal(id, scrubbed) VALUES (1, 0);
-- The worklist counts each study's priors with a correlated subquery: without
-- an index it scans every row per row, and sealed rows are longer.
CREATE INDEX worklist_prior_of ON worklist(prior_of);
