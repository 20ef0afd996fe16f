package report

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"math/big"
)

// ImplementationClassUID identifies Teleread as the writer of a DICOM file
// (File Meta Information (0002,0012)). It is a fixed UUID-derived UID
// (PS3.5 B.2) so that it never changes between builds.
const ImplementationClassUID = "2.25.297388980387705156883573537627452035199"

// ImplementationVersionName is written to (0002,0013); at most 16 characters.
const ImplementationVersionName = "TELEREAD_1"

// NewUID returns a fresh UID under the 2.25 root: the decimal form of a random
// (version 4) UUID, as PS3.5 B.2 describes. It fails only when the system's
// random source does.
func NewUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("report: new uid: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return uuidUID(u), nil
}

// UIDFromName returns the 2.25 UID of the name-based (version 5, SHA-1) UUID
// of name: the same name always gives the same UID. Use it only where a UID
// must be reproducible from data already stored, never for a new document.
func UIDFromName(name string) string {
	// The namespace is the UUID of ImplementationClassUID, so these UIDs
	// cannot collide with name-based UIDs of other products.
	ns := [16]byte{0xdf, 0xbb, 0x08, 0xc4, 0x57, 0xa6, 0x49, 0x09, 0x99, 0x0e, 0x2f, 0x9d, 0x16, 0x05, 0x50, 0x7f}
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return uuidUID(u)
}

func uuidUID(u [16]byte) string {
	return "2.25." + new(big.Int).SetBytes(u[:]).String()
}

// validUID reports whether s is a well-formed UID (PS3.5 9.1): at most 64
// characters, numeric components separated by dots, no leading zeros.
func validUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
			continue
		}
		n := i - start
		if n == 0 || (n > 1 && s[start] == '0') {
			return false
		}
		start = i + 1
	}
	return true
}
