package seal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"teleread/internal/allocs"
)

// FuzzOpen reads hostile sealed files: never a panic, and nothing allocated
// beyond a chunk's buffers whatever the header says (the plaintext size comes
// from the file's size, not from a field). Seeds: real sealed files, cut and
// flipped.
func FuzzOpen(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "corpus", "files", "mr_small_explicit_le.dcm"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 1, ChunkSize + 3} {
		p := data
		if n < len(p) {
			p = p[:n]
		}
		s, err := Append(nil, p, testKey, testBinding)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
		f.Add(s[:len(s)-1])
		f.Add(s[:HeaderSize])
	}
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4*sealedSize {
			return
		}
		// The reads' own buffers (at most the file's size), a batch buffer
		// and two chunk buffers, with room for the runtime's own.
		var size int64
		got, over := allocs.Bytes(uint64(len(b))+4<<20, func() {
			r, err := Open(bytes.NewReader(b), int64(len(b)), testKey, testBinding, "fuzz")
			size = -1
			if err == nil {
				// Whatever opened must read whole or fail cleanly.
				size = r.Size()
				if size > int64(len(b)) {
					return
				}
				r.ReadAt(make([]byte, size), 0)
				r.ReadAt(make([]byte, 3), size/2)
				r.Close()
			}
		})
		if size > int64(len(b)) {
			t.Fatalf("plaintext %d bytes from a %d-byte file", size, len(b))
		}
		if over {
			t.Fatalf("%d bytes allocated for a %d-byte file", got, len(b))
		}
	})
}
