package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Writer seals a stream into chunks as it is written. Close seals the last
// chunk; nothing written is complete before it.
type Writer struct {
	w       io.Writer
	aead    cipher.AEAD
	fileKey [KeySize]byte
	head    [24]byte // the header's fixed part (magic, version, prefix)
	buf     []byte   // plaintext of the chunk being filled; room for its tag
	i       int64    // index of the chunk being filled
	err     error
	closed  bool
}

// NewWriter starts a sealed file on w: the header, with the file key wrapped
// by key and bound to binding, then the chunks as they are written.
func NewWriter(w io.Writer, key, binding []byte) (*Writer, error) {
	sw, err := newWriter(w)
	if err != nil {
		return nil, err
	}
	sw.buf = make([]byte, 0, sealedSize)
	h, err := sw.Header(key, binding)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("seal: write header: %w", err)
	}
	return sw, nil
}

// NewDeferredWriter starts a sealed file on w whose key is not known yet: it
// writes HeaderSize zero bytes where the header goes, then the chunks. The
// caller writes Header's bytes over them (at offset 0) once it knows the key
// and binding; until then the file opens as nothing (ErrNotSealed) and its
// contents are unreadable to anyone, since the file key lives only in the
// Writer.
func NewDeferredWriter(w io.Writer) (*Writer, error) {
	sw, err := newWriter(w)
	if err != nil {
		return nil, err
	}
	sw.buf = make([]byte, 0, sealedSize)
	var zero [HeaderSize]byte
	if _, err := w.Write(zero[:]); err != nil {
		return nil, fmt.Errorf("seal: write header: %w", err)
	}
	return sw, nil
}

func newWriter(w io.Writer) (*Writer, error) {
	sw := &Writer{w: w}
	if _, err := rand.Read(sw.fileKey[:]); err != nil {
		return nil, fmt.Errorf("seal: file key: %w", err)
	}
	copy(sw.head[:], Magic)
	sw.head[8], sw.head[9] = version, chunkShift
	if _, err := rand.Read(sw.head[16 : 16+prefixSize]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	var err error
	if sw.aead, err = newGCM(sw.fileKey[:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return sw, nil
}

// Header returns the file's header: its file key wrapped by key, bound to
// binding. It may be called before, while or after the data are written.
func (w *Writer) Header(key, binding []byte) ([]byte, error) {
	return header(w.head, w.fileKey[:], key, binding)
}

func header(fixed [24]byte, fileKey, key, binding []byte) ([]byte, error) {
	kek, err := newGCM(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	h := make([]byte, 36, HeaderSize)
	copy(h, fixed[:])
	if _, err := rand.Read(h[24:36]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return kek.Seal(h, h[24:36], fileKey, wrapAD(h, binding)), nil
}

// errClosed: Write after Close.
var errClosed = errors.New("seal: write after close")

// Write seals p's bytes as chunks fill. A full chunk is sealed only when the
// next byte arrives, since the last chunk is sealed differently.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errClosed
	}
	n := 0
	for len(p) > 0 {
		if w.err != nil {
			return n, w.err
		}
		if len(w.buf) == ChunkSize {
			w.flush(false)
			continue
		}
		k := copy(w.buf[len(w.buf):ChunkSize], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		n += k
	}
	return n, w.err
}

// flush seals the chunk in buf (in place) and writes it.
func (w *Writer) flush(last bool) {
	if w.i >= maxChunks {
		w.err = fmt.Errorf("seal: more than %d chunks", int64(maxChunks))
		return
	}
	var n [12]byte
	nonce(&n, w.head[16:16+prefixSize], w.i, last)
	out := w.aead.Seal(w.buf[:0], n[:], w.buf, nil)
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("seal: write: %w", err)
		return
	}
	w.buf = w.buf[:0]
	w.i++
}

// Close seals and writes the last chunk. It does not close the underlying
// writer. Header still works after it (the deferred case needs it).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.flush(true)
	}
	return w.err
}

// Append appends plaintext, sealed whole with key and bound to binding, to
// dst and returns the extended slice: the in-memory form of a Writer, which
// seals straight into one buffer (dst with room for SealedSize(len) bytes
// is not reallocated).
func Append(dst, plaintext, key, binding []byte) ([]byte, error) {
	sw, err := newWriter(nil)
	if err != nil {
		return nil, err
	}
	defer clear(sw.fileKey[:])
	h, err := sw.Header(key, binding)
	if err != nil {
		return nil, err
	}
	if need := len(dst) + int(SealedSize(int64(len(plaintext)))); cap(dst) < need {
		grown := make([]byte, len(dst), need)
		copy(grown, dst)
		dst = grown
	}
	dst = append(dst, h...)
	var n [12]byte
	for i := int64(0); ; i++ {
		k := min(len(plaintext), ChunkSize)
		last := k == len(plaintext)
		nonce(&n, sw.head[16:16+prefixSize], i, last)
		dst = sw.aead.Seal(dst, n[:], plaintext[:k], nil)
		plaintext = plaintext[k:]
		if last {
			return dst, nil
		}
	}
}
