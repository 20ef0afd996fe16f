package jpeg2000

import (
	"bytes"
	"testing"
	"unsafe"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// samplesData is where img's samples start.
func samplesData(img *codec.Image) unsafe.Pointer {
	switch {
	case img.U8 != nil:
		return unsafe.Pointer(unsafe.SliceData(img.U8))
	case img.U16 != nil:
		return unsafe.Pointer(unsafe.SliceData(img.U16))
	}
	return unsafe.Pointer(unsafe.SliceData(img.U32))
}

// TestDecodeInto checks that the samples land in the memory alloc hands out,
// whatever it held before (a recycled frame), and that memory too short or
// misaligned for the samples is left alone.
func TestDecodeInto(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsLossy)
	for _, id := range []string{"mr_small_j2k_lossless", "us1_j2k_lossless_ybr_rct", "mr2_j2k_lossy_rescale"} {
		e := corpus.Lookup(t, entries, id)
		src := corpus.EntryFrame0(t, dir, e)
		d := e.DICOM
		size := 1
		if d.BitsAllocated > 8 {
			size = 2
		}
		n := d.Rows * d.Columns * d.SamplesPerPixel * size
		tests := []struct {
			name  string
			block func() []byte // what alloc returns
			used  bool          // whether the samples must be in it
		}{
			{"recycled, dirty", func() []byte { return bytes.Repeat([]byte{0xA5}, n) }, true},
			{"larger than asked", func() []byte { return bytes.Repeat([]byte{0x5A}, n+4096) }, true},
			{"too short", func() []byte { return make([]byte, n-1) }, false},
			{"none", func() []byte { return nil }, false},
			// A 16-bit sample at an odd address.
			{"misaligned", func() []byte { return make([]byte, n+1)[size-1:] }, size == 1},
		}
		for _, tt := range tests {
			t.Run(id+"/"+tt.name, func(t *testing.T) {
				var block []byte
				img, err := DecodeInto(src, func(got int) []byte {
					if got != n {
						t.Errorf("alloc asked for %d bytes, want %d", got, n)
					}
					block = tt.block()
					return block
				})
				if err != nil {
					t.Fatal(err)
				}
				inBlock := len(block) > 0 && samplesData(img) == unsafe.Pointer(&block[0])
				if inBlock != tt.used {
					t.Errorf("samples in the memory alloc returned: %v, want %v", inBlock, tt.used)
				}
				corpus.CheckStored(t, dir, e, img)
			})
		}
	}
}
