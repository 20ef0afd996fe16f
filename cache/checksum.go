package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"strings"
)

// Each stored file's checksum lets Verify find a file that changed after it
// was stored (a failing disk, a truncated copy). It is CRC-32C (Castagnoli),
// the data checksum Btrfs, ext4's metadata and iSCSI use for the same job,
// which the CPU's CRC32 instruction computes at several GB/s: SHA-256, used
// before, cost about a third of the CPU time of retrieving a study. A checksum
// is no defence against tampering (whoever can rewrite a file can rewrite the
// index), and it does not decide whether two copies of an instance are the
// same: their bytes are compared (sameContent).
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

// sameContent reports whether the files at a and b hold the same bytes.
func sameContent(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	sa, err := fa.Stat()
	if err != nil {
		return false, err
	}
	sb, err := fb.Stat()
	if err != nil {
		return false, err
	}
	if sa.Size() != sb.Size() {
		return false, nil
	}
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, errA := io.ReadFull(fa, bufA)
		nb, errB := io.ReadFull(fb, bufB)
		if !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if errA == io.EOF || errA == io.ErrUnexpectedEOF {
			return errB == io.EOF || errB == io.ErrUnexpectedEOF, nil
		}
		if errA != nil {
			return false, errA
		}
		if errB != nil {
			return false, errB
		}
	}
}
