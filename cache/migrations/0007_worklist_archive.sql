-- The archive the worklist rows came from: when another archive is configured
-- the old archive's rows are dropped (see Cache.SetWorklistArchive).
CREATE TABLE worklist_archive (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    archive TEXT NOT NULL
);
