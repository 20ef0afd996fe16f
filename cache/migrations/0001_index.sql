-- The study index: what a worklist and a viewer need without opening files.
CREATE TABLE patients (
    id          INTEGER PRIMARY KEY,
    patient_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    birth_date  TEXT NOT NULL DEFAULT '',
    sex         TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, name)
);

CREATE TABLE studies (
    study_uid      TEXT PRIMARY KEY,
    patient_pk     INTEGER NOT NULL REFERENCES patients(id),
    study_date     TEXT NOT NULL DEFAULT '',
    study_time     TEXT NOT NULL DEFAULT '',
    accession      TEXT NOT NULL DEFAULT '',
    study_id       TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    referring      TEXT NOT NULL DEFAULT '',
    patient_age    TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT 'import', -- import, archive, shared
    created_at     TEXT NOT NULL,
    last_read_at   TEXT
);
CREATE INDEX studies_patient ON studies(patient_pk);

CREATE TABLE series (
    series_uid     TEXT PRIMARY KEY,
    study_uid      TEXT NOT NULL REFERENCES studies(study_uid) ON DELETE CASCADE,
    modality       TEXT NOT NULL DEFAULT '',
    series_number  INTEGER,
    description    TEXT NOT NULL DEFAULT '',
    body_part      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX series_study ON series(study_uid);

CREATE TABLE instances (
    sop_uid          TEXT PRIMARY KEY,
    series_uid       TEXT NOT NULL REFERENCES series(series_uid) ON DELETE CASCADE,
    sop_class        TEXT NOT NULL DEFAULT '',
    instance_number  INTEGER,
    rows             INTEGER,
    columns          INTEGER,
    frames           INTEGER NOT NULL DEFAULT 1,
    transfer_syntax  TEXT NOT NULL,
    path             TEXT NOT NULL, -- relative to the cache's files directory
    size             INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    imported_at      TEXT NOT NULL
);
CREATE INDEX instances_series ON instances(series_uid);

-- Worklist state per study (sync fills it; turnaround time starts at assigned_at).
CREATE TABLE worklist (
    study_uid     TEXT PRIMARY KEY,
    reader        TEXT NOT NULL DEFAULT '',
    priority      INTEGER NOT NULL DEFAULT 2, -- 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW
    role          TEXT NOT NULL DEFAULT 'assigned', -- assigned or prior
    prior_of      TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'assigned', -- assigned, downloading, ready, failed, unassigned
    state_since   TEXT NOT NULL,
    assigned_at   TEXT NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    total         INTEGER NOT NULL DEFAULT 0,
    reason        TEXT NOT NULL DEFAULT '',
    workitem_uid  TEXT NOT NULL DEFAULT '',
    patient_id    TEXT NOT NULL DEFAULT '',
    patient_name  TEXT NOT NULL DEFAULT '',
    study_date    TEXT NOT NULL DEFAULT '',
    modalities    TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    accession     TEXT NOT NULL DEFAULT ''
);
