-- When the archive assigned a study, where the worklist says (a UPS-RS
-- workitem's Scheduled Procedure Step Start or Modification DateTime, or a
-- configured study attribute), RFC 3339 UTC; '' when it does not say. The
-- turnaround starts there, else at assigned_at (when this cache first saw
-- the study).
ALTER TABLE worklist ADD COLUMN archive_assigned_at TEXT NOT NULL DEFAULT '';
