-- Stored files are checked with CRC-32C from now on (see checksum.go); rows
-- written before keep their SHA-256, told apart by the "crc32c:" prefix.
ALTER TABLE instances RENAME COLUMN sha256 TO checksum;
