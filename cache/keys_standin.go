package cache

import (
	"crypto/hmac"
	"crypto/sha256"
)

// The key hierarchy's interface. StudyKey, RecordKey and ShredStudyKey are what
// the file sealing, the index sealing and the purge use; this file is a
// deterministic stand-in (keys derived from a constant) so that those parts can
// be built against the interface while the real hierarchy (master key in the OS
// keyring or wrapped by a passphrase, one wrapped data key per study) is
// written. It is replaced, not extended.

var standinSecret = []byte("teleread key hierarchy stand-in")

func standinKey(label string) []byte {
	m := hmac.New(sha256.New, standinSecret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// StudyKey returns the 32-byte data key of a study, creating it (durably) on
// first use, before any file of the study is written.
func (c *Cache) StudyKey(studyUID string) ([]byte, error) {
	return standinKey("study\x00" + studyUID), nil
}

// RecordKey returns the 32-byte key for identifying values in the index.
func (c *Cache) RecordKey() []byte { return standinKey("teleread index v1") }

// ShredStudyKey deletes a study's wrapped data key durably, so that its files
// are unreadable even from a copy of the disk.
func (c *Cache) ShredStudyKey(studyUID string) error { return nil }
