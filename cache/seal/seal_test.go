package seal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
)

var (
	testKey     = bytes.Repeat([]byte{7}, KeySize)
	testBinding = []byte("1.2.3\x001.2.3.4")
)

// plaintext returns n deterministic bytes.
func plaintext(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sealWith seals data with each of the three writers.
var writers = []struct {
	name string
	seal func(t *testing.T, data []byte) []byte
}{
	{"Writer", func(t *testing.T, data []byte) []byte {
		var out bytes.Buffer
		w, err := NewWriter(&out, testKey, testBinding)
		if err != nil {
			t.Fatal(err)
		}
		// Odd write sizes, so that chunk boundaries fall inside writes.
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1000+len(rest)%7777)
			if _, err := w.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}},
	{"DeferredWriter", func(t *testing.T, data []byte) []byte {
		var out bytes.Buffer
		w, err := NewDeferredWriter(&out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h, err := w.Header(testKey, testBinding)
		if err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		if !bytes.Equal(b[:HeaderSize], make([]byte, HeaderSize)) {
			t.Fatal("deferred header space is not zero")
		}
		copy(b, h)
		return b
	}},
	{"Append", func(t *testing.T, data []byte) []byte {
		b, err := Append(nil, data, testKey, testBinding)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}},
}

var sizes = []int{0, 1, 100, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize, 3*ChunkSize + 5, 40*ChunkSize + 17}

func open(t *testing.T, sealed []byte) *Reader {
	t.Helper()
	r, err := Open(bytes.NewReader(sealed), int64(len(sealed)), testKey, testBinding, "test.dcm")
	if err != nil {
		t.Fatalf("Open %d bytes: %v", len(sealed), err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	for _, w := range writers {
		for _, n := range sizes {
			data := plaintext(n)
			sealed := w.seal(t, data)
			if int64(len(sealed)) != SealedSize(int64(n)) {
				t.Errorf("%s %d: sealed %d bytes, SealedSize says %d", w.name, n, len(sealed), SealedSize(int64(n)))
			}
			if n >= 16 && bytes.Contains(sealed, data[:16]) {
				t.Errorf("%s %d: plaintext visible in the sealed file", w.name, n)
			}
			r := open(t, sealed)
			if r.Size() != int64(n) {
				t.Fatalf("%s %d: Size %d", w.name, n, r.Size())
			}
			got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s %d: read back differs (err %v)", w.name, n, err)
			}
			// Random ranges, as the parser and the pixel reads ask for them.
			rng := rand.New(rand.NewPCG(uint64(n), 2))
			for range 200 {
				if n == 0 {
					break
				}
				off := rng.IntN(n)
				buf := make([]byte, rng.IntN(n-off+1))
				m, err := r.ReadAt(buf, int64(off))
				if m != len(buf) || err != nil && !(err == io.EOF && off+len(buf) == n) {
					t.Fatalf("%s %d: ReadAt(%d, %d) = %d, %v", w.name, n, len(buf), off, m, err)
				}
				if !bytes.Equal(buf, data[off:off+len(buf)]) {
					t.Fatalf("%s %d: ReadAt(%d, %d) wrong bytes", w.name, n, len(buf), off)
				}
			}
			if m, err := r.ReadAt(make([]byte, 10), int64(n)); m != 0 || err != io.EOF {
				t.Errorf("%s %d: read at the end = %d, %v; want 0, EOF", w.name, n, m, err)
			}
		}
	}
}

// TestCorpusFile seals a real DICOM file and reads it back byte-identical.
func TestCorpusFile(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "corpus", "files", "ct_small_explicit_le.dcm")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Append(nil, data, testKey, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("DICM")) {
		t.Error("the DICM marker is visible in the sealed file")
	}
	got := make([]byte, len(data))
	if _, err := open(t, sealed).ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back differs (err %v)", err)
	}
}

// TestTamper changes sealed files in the ways a disk or a person might, and
// wants each refused with the sentinel and the file's name.
func TestTamper(t *testing.T) {
	data := plaintext(3*ChunkSize + 5)
	good, err := Append(nil, data, testKey, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	chunkAt := func(i int) int { return HeaderSize + i*sealedSize }
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x20; return b }
	}
	tests := []struct {
		name   string
		change func([]byte) []byte
		key    []byte
		bind   []byte
		want   error
	}{
		{"magic", flip(0), nil, nil, ErrNotSealed},
		{"version", flip(8), nil, nil, ErrVersion},
		{"chunk size", flip(9), nil, nil, ErrTampered},
		{"reserved byte", flip(12), nil, nil, ErrTampered},
		{"nonce prefix", flip(17), nil, nil, ErrTampered},
		{"wrapped key", flip(50), nil, nil, ErrTampered},
		{"first chunk", flip(chunkAt(0) + 10), nil, nil, ErrTampered},
		{"middle chunk tag", flip(chunkAt(2) - 1), nil, nil, ErrTampered},
		{"last chunk", flip(len(good) - 3), nil, nil, ErrTampered},
		{"cut at a chunk boundary", func(b []byte) []byte { return b[:chunkAt(3)] }, nil, nil, ErrTampered},
		{"cut inside a chunk", func(b []byte) []byte { return b[:chunkAt(2)+100] }, nil, nil, ErrTampered},
		{"cut to the header", func(b []byte) []byte { return b[:HeaderSize] }, nil, nil, ErrTampered},
		{"cut inside the header", func(b []byte) []byte { return b[:40] }, nil, nil, ErrTampered},
		{"extended", func(b []byte) []byte { return append(b, make([]byte, 40)...) }, nil, nil, ErrTampered},
		{"two chunks swapped", func(b []byte) []byte {
			c0 := bytes.Clone(b[chunkAt(0):chunkAt(1)])
			copy(b[chunkAt(0):], b[chunkAt(1):chunkAt(2)])
			copy(b[chunkAt(1):], c0)
			return b
		}, nil, nil, ErrTampered},
		{"a chunk dropped", func(b []byte) []byte { return append(b[:chunkAt(1)], b[chunkAt(2):]...) }, nil, nil, ErrTampered},
		{"other binding", nil, nil, []byte("1.2.3\x001.2.3.5"), ErrTampered},
		{"other key", nil, bytes.Repeat([]byte{8}, KeySize), nil, ErrTampered},
		{"short key", nil, []byte("short"), nil, ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(good)
			if tt.change != nil {
				b = tt.change(b)
			}
			key, bind := testKey, testBinding
			if tt.key != nil {
				key = tt.key
			}
			if tt.bind != nil {
				bind = tt.bind
			}
			err := readAll(b, key, bind)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var se *Error
			if !errors.As(err, &se) || se.Name != "x/1.2.3.4.dcm" {
				t.Errorf("error %v does not name the file", err)
			}
		})
	}
}

// readAll opens a sealed file and reads every byte.
func readAll(b, key, bind []byte) error {
	r, err := Open(bytes.NewReader(b), int64(len(b)), key, bind, "x/1.2.3.4.dcm")
	if err != nil {
		return err
	}
	_, err = r.ReadAt(make([]byte, r.Size()), 0)
	return err
}

// TestPlainFile: a plain DICOM file is not sealed, and says so.
func TestPlainFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if IsSealed(data) {
		t.Fatal("a DICOM file reads as sealed")
	}
	if err := readAll(data, testKey, testBinding); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("got %v, want ErrNotSealed", err)
	}
}

// TestDeferredHeaderUnwritten: a file whose header was never written (the
// writer died first) is not readable as anything.
func TestDeferredHeaderUnwritten(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewDeferredWriter(&out)
	w.Write(plaintext(1000))
	w.Close()
	if err := readAll(out.Bytes(), testKey, testBinding); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("got %v, want ErrNotSealed", err)
	}
}

// countingReaderAt counts the bytes read through it (by as many goroutines
// as a read shares its chunks among).
type countingReaderAt struct {
	r     io.ReaderAt
	bytes atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes.Add(int64(n))
	return n, err
}

// TestCutShortFailsAtItsEnd: Open reads the header and the first chunk only
// (most opens want the header alone), so a file cut short or extended is
// caught when a read reaches its last chunk: every read that does fails,
// however it is cut up, and every read that does not returns the file's own
// bytes.
func TestCutShortFailsAtItsEnd(t *testing.T) {
	const n = 5*ChunkSize + 300
	data := plaintext(n)
	good, err := Append(nil, data, testKey, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	chunkAt := func(i int) int { return HeaderSize + i*sealedSize }
	damages := []struct {
		name   string
		change func([]byte) []byte
		intact int64 // plaintext bytes before the first damaged chunk
	}{
		{"cut at a chunk boundary", func(b []byte) []byte { return b[:chunkAt(3)] }, 2 * ChunkSize},
		{"cut inside the last chunk", func(b []byte) []byte { return b[:len(b)-7] }, 5 * ChunkSize},
		{"cut inside a middle chunk", func(b []byte) []byte { return b[:chunkAt(2)+5000] }, 2 * ChunkSize},
		{"last chunk changed", func(b []byte) []byte { b[len(b)-20] ^= 1; return b }, 5 * ChunkSize},
		// The old last chunk becomes a middle one, and fails as well.
		{"extended by a chunk's worth", func(b []byte) []byte { return append(b, b[chunkAt(1):chunkAt(2)]...) }, 5 * ChunkSize},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			b := d.change(bytes.Clone(good))
			cr := &countingReaderAt{r: bytes.NewReader(b)}
			r, err := Open(cr, int64(len(b)), testKey, testBinding, "x/1.2.3.4.dcm")
			if err != nil {
				t.Fatalf("Open: %v (the damage is past the first chunk)", err)
			}
			defer r.Close()
			if got := cr.bytes.Load(); got > HeaderSize+sealedSize {
				t.Errorf("Open read %d bytes, want at most the header and the first chunk", got)
			}
			size := r.Size()
			lastStart := (size - 1) / ChunkSize * ChunkSize
			reaching := []struct {
				name    string
				off, ln int64
			}{
				{"whole file", 0, size},
				{"last byte", size - 1, 1},
				{"last chunk whole", lastStart, size - lastStart},
				{"across the last two chunks", lastStart - 100, 200},
				{"past the end", size - 10, 100},
			}
			for _, rd := range reaching {
				for range 2 { // a failure is not remembered as a success
					_, err := r.ReadAt(make([]byte, rd.ln), rd.off)
					if !errors.Is(err, ErrTampered) {
						t.Errorf("%s: got %v, want ErrTampered", rd.name, err)
					}
				}
			}
			if _, err := io.Copy(io.Discard, io.NewSectionReader(r, 0, size)); !errors.Is(err, ErrTampered) {
				t.Errorf("read through in small pieces: got %v, want ErrTampered", err)
			}
			// Before the damage: the file's own bytes.
			got := make([]byte, d.intact)
			if m, err := r.ReadAt(got, 0); m != len(got) || err != nil || !bytes.Equal(got, data[:d.intact]) {
				t.Errorf("read before the damage: %d bytes, %v, or wrong bytes", m, err)
			}
		})
	}
}

// TestReadSharedOut reads big ranges with more goroutines than chunks can
// keep busy, from a file with one changed chunk: the bytes before it are
// right, the read stops at it (n is where it starts), and the error names
// it.
func TestReadSharedOut(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 40*ChunkSize + 17
	data := plaintext(n)
	good, err := Append(nil, data, testKey, testBinding)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []int{-1, 1, 7, 20, 40} {
		b := bytes.Clone(good)
		if bad >= 0 {
			b[HeaderSize+bad*sealedSize+10] ^= 1
		}
		r := open(t, b)
		for _, rd := range []struct{ off, ln int }{{0, n}, {ChunkSize, 16 * ChunkSize}, {3, 39 * ChunkSize}, {5 * ChunkSize, n - 5*ChunkSize}} {
			got := make([]byte, rd.ln)
			m, err := r.ReadAt(got, int64(rd.off))
			wantN := rd.ln
			if bad >= 0 && bad*ChunkSize < rd.off+rd.ln && (bad+1)*ChunkSize > rd.off {
				wantN = max(bad*ChunkSize-rd.off, 0)
				var se *Error
				if !errors.As(err, &se) || !errors.Is(err, ErrTampered) || se.Chunk != int64(bad) {
					t.Errorf("chunk %d changed, ReadAt(%d, %d): error %v, want ErrTampered in chunk %d", bad, rd.ln, rd.off, err, bad)
				}
			} else if err != nil && !(errors.Is(err, io.EOF) && rd.off+rd.ln == n) {
				t.Errorf("chunk %d changed, ReadAt(%d, %d): %v", bad, rd.ln, rd.off, err)
			}
			if m != wantN {
				t.Errorf("chunk %d changed, ReadAt(%d, %d) = %d bytes, want %d", bad, rd.ln, rd.off, m, wantN)
			}
			if !bytes.Equal(got[:min(m, wantN)], data[rd.off:rd.off+min(m, wantN)]) {
				t.Errorf("chunk %d changed, ReadAt(%d, %d): wrong bytes", bad, rd.ln, rd.off)
			}
		}
		r.Close()
	}
}
