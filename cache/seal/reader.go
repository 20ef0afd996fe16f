package seal

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"runtime"
	gosync "sync"
	"sync/atomic"
)

// Reader reads a sealed file's plaintext at any offset (io.ReaderAt), decrypting
// only the chunks a read touches. It is safe for concurrent use.
type Reader struct {
	r      io.ReaderAt
	name   string
	size   int64 // plaintext size
	chunks int64
	aead   cipher.AEAD
	prefix [prefixSize]byte

	// The last chunks decrypted for reads that cover only part of a chunk
	// (the parser reads a 64 KiB window at any offset, which straddles two).
	// Their buffers come from keptPool when first needed and go back on
	// Close: a file opened for its header alone, most are, costs none.
	mu     gosync.Mutex
	kept   [2]keptChunk
	next   int // the entry to replace next
	closed bool
}

type keptChunk struct {
	i     int64 // chunk index, -1 when empty
	buf   *[]byte
	plain []byte // the chunk's plaintext, in *buf
}

// keptPool's buffers hold a header and a chunk: Open reads both at once.
var keptPool = gosync.Pool{New: func() any { b := make([]byte, HeaderSize+sealedSize); return &b }}

// errClosedReader: a read after Close.
var errClosedReader = errors.New("read after close")

// batch is how many whole chunks one call of readWhole decrypts.
const batch = 16

// Open authenticates the header of the sealed file of the given size read
// through r, with key and the binding it was sealed with, and the first chunk
// (read with the header). name is used in errors. Errors are *Error wrapping
// ErrNotSealed, ErrVersion, ErrTampered or the read error.
//
// The other chunks are authenticated when a read reaches them, the last one
// included: a file cut short (even at a chunk boundary, since its new last
// chunk was sealed as not last) or extended fails every read that reaches its
// end, and so does reading it whole (Verify), while the chunks before are the
// file's own bytes. Most opens read a file's header alone (thumbnails, slice
// positions): reading and decrypting the last chunk for them was a read and a
// decryption the plain file does not have.
func Open(r io.ReaderAt, size int64, key, binding []byte, name string) (*Reader, error) {
	return OpenKey(r, size, func() ([]byte, error) { return key, nil }, binding, name)
}

// OpenKey is Open with the key asked for only once the file is known to be
// sealed (the cache's keys are made on first use: a plain file must not make
// one).
func OpenKey(r io.ReaderAt, size int64, key func() ([]byte, error), binding []byte, name string) (*Reader, error) {
	fail := func(chunk int64, err error) (*Reader, error) {
		return nil, &Error{Name: name, Chunk: chunk, Err: err}
	}
	// One read brings the header and the first chunk, which is all of a
	// small file and what the parser reads first of a big one.
	first := keptPool.Get().(*[]byte)
	keep := false
	defer func() {
		if !keep {
			keptPool.Put(first)
		}
	}()
	n, err := r.ReadAt((*first)[:min(int64(len(*first)), max(size, 0))], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fail(-1, fmt.Errorf("read header: %w", err))
	}
	h := (*first)[:n]
	if !IsSealed(h) {
		return fail(-1, ErrNotSealed)
	}
	if n < HeaderSize {
		return fail(-1, fmt.Errorf("%w: header cut short", ErrTampered))
	}
	if h[8] != version {
		return fail(-1, fmt.Errorf("%w: %d", ErrVersion, h[8]))
	}
	if h[9] != chunkShift {
		return fail(-1, fmt.Errorf("%w: chunk size 2^%d", ErrTampered, h[9]))
	}
	plain, chunks, ok := plainSize(size)
	if !ok {
		return fail(-1, fmt.Errorf("%w: size %d is no sealed file's", ErrTampered, size))
	}
	k, err := key()
	if err != nil {
		return fail(-1, err)
	}
	kek, err := newGCM(k)
	if err != nil {
		return fail(-1, err)
	}
	fileKey, err := kek.Open(nil, h[24:36], h[36:HeaderSize], wrapAD(h, binding))
	if err != nil {
		return fail(-1, fmt.Errorf("%w: the file key does not open", ErrTampered))
	}
	defer clear(fileKey)
	sr := &Reader{r: r, name: name, size: plain, chunks: chunks}
	copy(sr.prefix[:], h[16:16+prefixSize])
	if sr.aead, err = newGCM(fileKey); err != nil {
		return fail(-1, err)
	}
	for k := range sr.kept {
		sr.kept[k].i = -1
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if int64(n) >= HeaderSize+int64(sr.chunkLen(0))+Overhead {
		// The first chunk came with the header: decrypted in place, kept.
		ct := (*first)[HeaderSize : HeaderSize+sr.chunkLen(0)+Overhead]
		if _, err = sr.open(ct[:0], ct, 0); err != nil {
			return nil, err
		}
		keep = true
		sr.kept[0] = keptChunk{i: 0, buf: first, plain: ct[:sr.chunkLen(0)]}
		sr.next = 1
	}
	return sr, nil
}

// Close gives the Reader's buffers back; it does not close the file it reads.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
	return nil
}

func (r *Reader) closeLocked() {
	r.closed = true
	for k := range r.kept {
		if r.kept[k].buf != nil {
			keptPool.Put(r.kept[k].buf)
		}
		r.kept[k] = keptChunk{i: -1}
	}
}

// Size returns the plaintext size.
func (r *Reader) Size() int64 { return r.size }

// chunkLen is the plaintext length of chunk i.
func (r *Reader) chunkLen(i int64) int {
	if i < r.chunks-1 {
		return ChunkSize
	}
	return int(r.size - i*ChunkSize)
}

// open decrypts ct, chunk i's bytes on disk, appending to dst.
func (r *Reader) open(dst, ct []byte, i int64) ([]byte, error) {
	var n [12]byte
	nonce(&n, r.prefix[:], i, i == r.chunks-1)
	out, err := r.aead.Open(dst, n[:], ct, nil)
	if err != nil {
		return nil, &Error{Name: r.name, Chunk: i, Err: ErrTampered}
	}
	return out, nil
}

// readSealed reads chunks [i, i+k) off disk into buf.
func (r *Reader) readSealed(buf []byte, i int64) error {
	m, err := r.r.ReadAt(buf, HeaderSize+i*sealedSize)
	if m == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		// The file shrank since Open measured it.
		return &Error{Name: r.name, Chunk: i, Err: fmt.Errorf("%w: cut short", ErrTampered)}
	}
	return &Error{Name: r.name, Chunk: i, Err: fmt.Errorf("read: %w", err)}
}

// chunk returns chunk i's plaintext from the kept chunks, decrypting it into
// one of them when it is not there. The caller holds mu and must not keep the
// slice past it.
func (r *Reader) chunk(i int64) ([]byte, error) {
	for _, k := range r.kept {
		if k.i == i {
			return k.plain, nil
		}
	}
	if r.closed {
		return nil, &Error{Name: r.name, Chunk: i, Err: errClosedReader}
	}
	k := &r.kept[r.next]
	k.i = -1
	if k.buf == nil {
		k.buf = keptPool.Get().(*[]byte)
	}
	// Read and decrypted in place.
	ct := (*k.buf)[:r.chunkLen(i)+Overhead]
	if err := r.readSealed(ct, i); err != nil {
		return nil, err
	}
	out, err := r.open(ct[:0], ct, i)
	if err != nil {
		return nil, err
	}
	k.i, k.plain = i, out
	r.next = (r.next + 1) % len(r.kept)
	return out, nil
}

// ReadAt reads len(p) plaintext bytes at off. Whole chunks inside p are
// read into it and decrypted in place (no copy); a chunk p
// covers only in part, or one decrypted already (the first and the last,
// by Open), comes from the kept chunks.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Name: r.name, Chunk: -1, Err: errors.New("negative offset")}
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p[:min(int64(len(p)), r.size-off)]
	done := 0
	for done < len(want) {
		pos := off + int64(done)
		i, within := pos/ChunkSize, int(pos%ChunkSize)
		if within == 0 && len(want)-done >= r.chunkLen(i) && !r.isKept(i) {
			// Whole chunks: how many in a row fit in p (and in one batch).
			k := int64(1)
			for k < batch && i+k < r.chunks && int64(len(want)-done) >= k*ChunkSize+int64(r.chunkLen(i+k)) && !r.isKept(i+k) {
				k++
			}
			n, err := r.readWhole(want[done:], i, k)
			done += n
			if err != nil {
				return done, err
			}
			continue
		}
		r.mu.Lock()
		c, err := r.chunk(i)
		if err == nil {
			done += copy(want[done:], c[within:])
		}
		r.mu.Unlock()
		if err != nil {
			return done, err
		}
	}
	if len(want) < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// isKept reports whether chunk i is decrypted already.
func (r *Reader) isKept(i int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.kept {
		if k.i == i {
			return true
		}
	}
	return false
}

// readWhole decrypts chunks [i, i+k), all whole in dst, into dst. With
// more than one core and more than one chunk, up to GOMAXPROCS goroutines
// take the chunks one at a time: decryption is most of what sealing adds to a
// big read (a frame's pixels), and the viewer waits for one slice's pixels
// before it draws. The caller's goroutine takes chunks too and waits only for
// those another has started, so a helper the system is slow to run costs
// nothing but its start. It returns when every chunk has been read and
// authenticated, or the bytes up to the first one that failed and its error:
// no byte of a chunk is handed out before the chunk's tag has been checked.
func (r *Reader) readWhole(dst []byte, i, k int64) (int, error) {
	helpers := min(int64(runtime.GOMAXPROCS(0)), k) - 1
	if helpers <= 0 || !shareReads {
		return r.readRun(dst, i, k)
	}
	sh := &shared{r: r, dst: dst, i: i, k: k, all: make(chan struct{})}
	sh.left.Store(k)
	for range helpers {
		go sh.work()
	}
	sh.work()
	<-sh.all
	n := 0
	for j := range k {
		if sh.errs[j] != nil {
			return n, sh.errs[j]
		}
		n += r.chunkLen(i + j)
	}
	return n, nil
}

// shareReads is false only in the benchmarks that measure what sharing a
// read out among goroutines gains.
var shareReads = true

// shared is a read of whole chunks shared out among goroutines.
type shared struct {
	r          *Reader
	dst        []byte
	i, k       int64
	next, left atomic.Int64  // chunks taken, chunks not finished
	all        chan struct{} // closed when left reaches 0
	errs       [batch]error
}

// work decrypts chunks until none is left to take. Each goes through a
// pooled buffer, not in place in dst: a chunk read in place puts its tag
// where the next chunk's plaintext goes, which another goroutine may be
// writing.
func (sh *shared) work() {
	var bp *[]byte
	for {
		j := sh.next.Add(1) - 1
		if j >= sh.k {
			break
		}
		if bp == nil {
			bp = keptPool.Get().(*[]byte)
		}
		c := sh.i + j
		n := sh.r.chunkLen(c)
		ct := (*bp)[:n+Overhead]
		err := sh.r.readSealed(ct, c)
		if err == nil {
			at := int(j) * ChunkSize
			_, err = sh.r.open(sh.dst[at:at:at+n], ct, c)
		}
		sh.errs[j] = err
		if sh.left.Add(-1) == 0 {
			close(sh.all)
		}
	}
	if bp != nil {
		keptPool.Put(bp)
	}
}

// readRun decrypts chunks [i, i+k), all whole in dst, into dst, one after the
// other. Each is read into dst where its plaintext goes and decrypted in
// place, its tag spilling into the next chunk's place (overwritten next); the
// last one goes through a pooled buffer when dst has no room for its tag. It
// returns the bytes done.
func (r *Reader) readRun(dst []byte, i, k int64) (int, error) {
	done := 0
	for j := i; j < i+k; j++ {
		n := r.chunkLen(j)
		if len(dst)-done >= n+Overhead {
			ct := dst[done : done+n+Overhead]
			if err := r.readSealed(ct, j); err != nil {
				return done, err
			}
			if _, err := r.open(ct[:0], ct, j); err != nil {
				return done, err
			}
		} else {
			bp := keptPool.Get().(*[]byte)
			ct := (*bp)[:n+Overhead]
			err := r.readSealed(ct, j)
			if err == nil {
				_, err = r.open(dst[done:done], ct, j)
			}
			keptPool.Put(bp)
			if err != nil {
				return done, err
			}
		}
		done += n
	}
	return done, nil
}
