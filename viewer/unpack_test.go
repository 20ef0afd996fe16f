package viewer

import "testing"

// TestUnpack1 checks the byte-at-a-time unpacking of 1-bit data against the
// definition (bit p is bit p%8 of byte p/8) for every start bit and for lengths
// that end inside a byte.
func TestUnpack1(t *testing.T) {
	b := []byte{0xA5, 0x3C, 0xFF, 0x00, 0x81, 0x7E, 0x12, 0xED}
	for bit := 0; bit < 8; bit++ {
		for n := 0; bit+n <= 8*len(b); n += 5 {
			out := make([]byte, n)
			unpack1(out, b, bit)
			for i, got := range out {
				p := bit + i
				if want := b[p/8] >> (p % 8) & 1; got != want {
					t.Fatalf("start bit %d, %d bits: bit %d is %d, want %d", bit, n, i, got, want)
				}
			}
		}
	}
}

// TestInterleaveBytes checks planar-to-interleaved 8-bit colour (16 pixels at a
// time where the machine allows) against the definition, for plane lengths
// around the block size.
func TestInterleaveBytes(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 1000} {
		src := make([]byte, 3*n)
		for i := range src {
			src[i] = byte(i*7 + i/5)
		}
		dst := make([]byte, 3*n)
		interleaveBytes(dst, src, n)
		for i := range n {
			for c := range 3 {
				if got, want := dst[3*i+c], src[c*n+i]; got != want {
					t.Fatalf("%d pixels: pixel %d sample %d is %d, want %d", n, i, c, got, want)
				}
			}
		}
	}
}
