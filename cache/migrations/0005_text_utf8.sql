-- Text in the index is UTF-8, decoded per the files' Specific Character Set.
-- Rows written before held the stored bytes: the Go step of this migration
-- (redecodeText in text.go) reads them again from the stored files.
SELECT 1;
