package seal

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkOpenRead opens a sealed file held in memory and reads it whole:
// the cost sealing adds to every read of a cached file, without the disk.
func BenchmarkOpenRead(b *testing.B) {
	for _, n := range []int{39 << 10, 512 << 10, 8 << 20} {
		data := plaintext(n)
		sealed, err := Append(nil, data, testKey, testBinding)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, n)
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				r, err := Open(bytes.NewReader(sealed), int64(len(sealed)), testKey, testBinding, "x")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadAt(buf, 0); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkReadShared is BenchmarkOpenRead's MR-sized case (a 322 KB file,
// the parser's 64 KiB window and then the pixel range, as a render reads it)
// with its whole chunks decrypted by one goroutine and shared out among
// GOMAXPROCS: what sharing gains on an idle machine, or costs on a busy one.
func BenchmarkReadShared(b *testing.B) {
	const n, pixels = 321700, 31300
	sealed, err := Append(nil, plaintext(n), testKey, testBinding)
	if err != nil {
		b.Fatal(err)
	}
	win, px := make([]byte, 64<<10), make([]byte, n-pixels)
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			shareReads = shared
			defer func() { shareReads = true }()
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				r, err := Open(bytes.NewReader(sealed), int64(len(sealed)), testKey, testBinding, "x")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadAt(win, 0); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadAt(px, pixels); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkAppend seals a file held in memory, as an import does.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{39 << 10, 512 << 10, 8 << 20} {
		data := plaintext(n)
		out := make([]byte, 0, SealedSize(int64(n)))
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Append(out[:0], data, testKey, testBinding); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
