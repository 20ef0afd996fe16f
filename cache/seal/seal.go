// Package seal is the file format the cache keeps instance files in on disk:
// authenticated encryption (AES-256-GCM) over fixed-size chunks, so that a
// file can be written as a stream and read at any offset (the viewer reads
// one frame's bytes out of a long cine) without decrypting the rest.
//
// Layout (version 1):
//
//	header  84 bytes
//	  [0:8]   magic "TLRSEAL\x00"
//	  [8]     version, 1
//	  [9]     log2 of the chunk size, 16 (64 KiB)
//	  [10:16] zero
//	  [16:23] nonce prefix of the chunks (random)
//	  [23]    zero
//	  [24:36] nonce of the wrapped file key (random)
//	  [36:84] the file key (32 random bytes) sealed with the caller's key,
//	          associated data: header[0:24] followed by the caller's binding
//	chunks  each AES-256-GCM under the file key: ChunkSize bytes of plaintext
//	        (the last one 1..ChunkSize bytes, or 0 when the whole file is
//	        empty) followed by its 16-byte tag.
//
// A chunk's nonce is the prefix, its index (big-endian uint32) and a last-chunk
// flag byte, as in the STREAM construction (Hoang, Reyhanitabar, Rogaway,
// Vizár, 2015): a chunk moved elsewhere in the file fails to open, and so does
// a file cut at a chunk boundary (its new last chunk was sealed as not last).
//
// Each file has its own random key, wrapped by the caller's key with the
// caller's binding as associated data (the cache binds a file to its study and
// SOP Instance UIDs): a file moved under another instance's name, or into
// another study, fails to open. The random file key also lets a file be
// written before the key that wraps it is known (Writer.Header): a big
// instance streams to disk encrypted while it arrives, and the study it belongs
// to is read from it afterwards.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// Format constants.
const (
	// HeaderSize is the size of a sealed file's header.
	HeaderSize = 84
	// ChunkSize is the plaintext size of every chunk but the last.
	ChunkSize = 1 << chunkShift
	// Overhead is what sealing adds to each chunk (the GCM tag).
	Overhead = 16
	// KeySize is the size of the key a file is sealed with (AES-256).
	KeySize = 32

	chunkShift = 16
	version    = 1
	prefixSize = 7
	sealedSize = ChunkSize + Overhead // size of a full chunk on disk
	// maxChunks bounds a file's chunks so that the 32-bit counter cannot wrap
	// (2^32 chunks of 64 KiB is 256 TiB; the cache refuses far less).
	maxChunks = 1 << 32
)

// Magic opens every sealed file. A plain DICOM file starts with a 128-byte
// preamble (zeros, or a TIFF header in dual-format files) or with a group
// 0008 element, never with these bytes in practice.
const Magic = "TLRSEAL\x00"

// Errors callers branch on. They come wrapped in an *Error naming the file.
var (
	// ErrNotSealed: the input does not start with the sealed header's magic
	// (a plain file, or something else).
	ErrNotSealed = errors.New("not a sealed file")
	// ErrTampered: the input is a sealed file that fails authentication:
	// changed, truncated, extended, reordered, sealed for another binding, or
	// opened with the wrong key (which cannot be told apart from a change).
	ErrTampered = errors.New("sealed file changed, truncated or sealed for another instance")
	// ErrVersion: a sealed file of a format version this package does not read.
	ErrVersion = errors.New("unsupported sealed file version")
	// ErrKey: the key given is not KeySize bytes.
	ErrKey = errors.New("seal key must be 32 bytes")
)

// Error is a failure to read or write a sealed file, naming it.
type Error struct {
	Name string // the file, as the caller named it
	// Chunk is the chunk that failed (-1 when the failure is not in a chunk:
	// the header, the size).
	Chunk int64
	Err   error
}

func (e *Error) Error() string {
	if e.Chunk >= 0 {
		return fmt.Sprintf("seal: %s: chunk %d: %v", e.Name, e.Chunk, e.Err)
	}
	return fmt.Sprintf("seal: %s: %v", e.Name, e.Err)
}

// Unwrap gives errors.Is the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// IsSealed reports whether head (a file's first bytes) starts with the magic.
func IsSealed(head []byte) bool { return bytes.HasPrefix(head, []byte(Magic)) }

// SealedSize returns the size on disk of n bytes of plaintext, sealed.
func SealedSize(n int64) int64 {
	full := n / ChunkSize
	rest := n % ChunkSize
	if rest == 0 && n > 0 {
		return HeaderSize + full*sealedSize
	}
	return HeaderSize + full*sealedSize + rest + Overhead
}

// plainSize returns the plaintext size of a sealed file of size n and its
// number of chunks, or false when no sealed file has that size.
func plainSize(n int64) (plain, chunks int64, ok bool) {
	body := n - HeaderSize
	if body < Overhead {
		return 0, 0, false
	}
	full, rest := body/sealedSize, body%sealedSize
	switch {
	case rest == 0:
		plain, chunks = full*ChunkSize, full
	case rest < Overhead, rest == Overhead && full > 0:
		// A chunk shorter than its tag, or an empty chunk after others.
		return 0, 0, false
	default:
		plain, chunks = full*ChunkSize+rest-Overhead, full+1
	}
	if chunks > maxChunks {
		return 0, 0, false
	}
	return plain, chunks, true
}

// nonce writes chunk i's nonce into n.
func nonce(n *[12]byte, prefix []byte, i int64, last bool) {
	copy(n[:prefixSize], prefix)
	binary.BigEndian.PutUint32(n[prefixSize:], uint32(i))
	n[11] = 0
	if last {
		n[11] = 1
	}
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, ErrKey
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// wrapAD is the associated data of the wrapped file key: the header's fixed
// part, then the caller's binding.
func wrapAD(head, binding []byte) []byte {
	ad := make([]byte, 0, 24+len(binding))
	ad = append(ad, head[:24]...)
	return append(ad, binding...)
}
