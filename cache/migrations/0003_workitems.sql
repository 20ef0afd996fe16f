-- UPS-RS claims: the Transaction UID is stored before a claim is sent, because a
-- workitem read back never shows it and it is needed to complete the workitem.
CREATE TABLE workitem_claims (
    workitem_uid     TEXT PRIMARY KEY,
    study_uid        TEXT NOT NULL,
    transaction_uid  TEXT NOT NULL,
    state            TEXT NOT NULL, -- pending, claimed, completed, canceled, lost
    claimed_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX workitem_claims_study ON workitem_claims(study_uid);
