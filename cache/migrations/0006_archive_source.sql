-- The puller's batches recorded every study they retrieved as 'import', so a
-- consultation note on one was kept local instead of delivered. Only studies
-- the archive listed ever get a worklist row (assigned or prior, also once
-- unassigned): those came from the archive. A study marked shared stays shared.
UPDATE studies SET source = 'archive'
WHERE source = 'import' AND study_uid IN (SELECT study_uid FROM worklist);
