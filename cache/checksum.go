package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// Each stored file's checksum lets Verify find a file that changed after it
// was stored (a failing disk, a truncated copy). It is CRC-32C (Castagnoli),
// the data checksum Btrfs, ext4's metadata and iSCSI use for the same job,
// which the CPU's CRC32 instruction computes at several GB/s: SHA-256, used
// before, cost about a third of the CPU time of retrieving a study. A checksum
// is no defence against tampering (whoever can rewrite a file can rewrite the
// index), and it does not decide whether two copies of an instance are the
// same: their bytes (decrypted) are compared (sameContent).
//
// Rows written before CRC-32C hold a bare hex SHA-256; Verify still checks
// them with SHA-256.
const crcPrefix = "crc32c:"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumOf returns the checksum recorded for a file with these bytes.
func checksumOf(data []byte) string { return crcChecksum(crc32.Checksum(data, castagnoli)) }

// crcChecksum formats a CRC-32C as the index records it.
func crcChecksum(v uint32) string { return fmt.Sprintf("%s%08x", crcPrefix, v) }

// newChecksum returns a running checksum of the kind recorded as stored, and
// how to format its result like stored.
func newChecksum(stored string) (hash.Hash, func([]byte) string) {
	if strings.HasPrefix(stored, crcPrefix) {
		return crc32.New(castagnoli), func(b []byte) string { return crcPrefix + hex.EncodeToString(b) }
	}
	return sha256.New(), hex.EncodeToString
}

// contentSHA256 returns the SHA-256 of a file's bytes in hex: the seed of the
// UIDs derived for files that lack them (so a re-import derives the same).
func contentSHA256(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// plainReader is a file's plaintext: a Stored file.
type plainReader interface {
	io.ReaderAt
	Size() int64
}

// sameContent reports whether a and b hold the same bytes.
func sameContent(a, b plainReader) (bool, error) {
	if a.Size() != b.Size() {
		// A sealed file's size is proved only by its last chunk: a file cut
		// short is reported as damaged, not as other bytes.
		for _, r := range []plainReader{a, b} {
			if r.Size() == 0 {
				continue
			}
			if _, err := r.ReadAt(make([]byte, 1), r.Size()-1); err != nil && !errors.Is(err, io.EOF) {
				return false, err
			}
		}
		return false, nil
	}
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for off := int64(0); off < a.Size(); {
		n := min(int64(len(bufA)), a.Size()-off)
		if _, err := a.ReadAt(bufA[:n], off); err != nil && !(errors.Is(err, io.EOF) && off+n == a.Size()) {
			return false, err
		}
		if _, err := b.ReadAt(bufB[:n], off); err != nil && !(errors.Is(err, io.EOF) && off+n == b.Size()) {
			return false, err
		}
		if !bytes.Equal(bufA[:n], bufB[:n]) {
			return false, nil
		}
		off += n
	}
	return true, nil
}
