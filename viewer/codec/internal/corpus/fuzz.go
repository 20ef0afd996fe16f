package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"teleread/internal/allocs"
	"teleread/viewer/codec"
)

// CheckSamples reports an error unless exactly one of the image's sample
// slices is set and it holds Width*Height*Components samples, as codec.Image
// promises.
func CheckSamples(img *codec.Image) error {
	n := img.Width * img.Height * img.Components
	set := 0
	for _, l := range []int{len(img.U8), len(img.U16), len(img.U32)} {
		if l > 0 {
			set++
		}
	}
	if set != 1 || len(img.U8)+len(img.U16)+len(img.U32) != n {
		return fmt.Errorf("%dx%dx%d image with %d U8, %d U16 and %d U32 samples",
			img.Width, img.Height, img.Components, len(img.U8), len(img.U16), len(img.U32))
	}
	return nil
}

// CheckDecode decodes src and checks what every decoder's fuzz target
// asserts beyond not crashing: an error is ErrCorrupt or ErrUnsupported
// (callers branch on them); an image holds as many samples as its header
// says, in the slice its precision calls for, none wider than that
// precision; and decoding the same bytes again gives the same image (a
// decoder reading uninitialised memory, or state an earlier call left,
// does not).
func CheckDecode(t *testing.T, src []byte, decode func([]byte) (*codec.Image, error)) *codec.Image {
	t.Helper()
	return CheckDecodeBounded(t, src, 0, decode)
}

// CheckDecodeBounded is CheckDecode that also fails t when the first decode
// allocates more than bound bytes of Go heap (allocs.Bytes; C allocations of
// the cgo decoders are not counted); a bound of 0 is none. Measuring the
// decode CheckDecode makes anyway spares a fuzz execution a third one.
func CheckDecodeBounded(t *testing.T, src []byte, bound uint64, decode func([]byte) (*codec.Image, error)) *codec.Image {
	t.Helper()
	var img *codec.Image
	var err error
	if bound == 0 {
		img, err = decode(src)
	} else if got, over := allocs.Bytes(bound, func() { img, err = decode(src) }); over {
		t.Fatalf("decoding %d bytes allocated %d, bound %d", len(src), got, bound)
	}
	if err != nil {
		if !errors.Is(err, codec.ErrCorrupt) && !errors.Is(err, codec.ErrUnsupported) {
			t.Fatalf("error %v is neither ErrCorrupt nor ErrUnsupported", err)
		}
		return nil
	}
	if err := CheckSamples(img); err != nil {
		t.Fatal(err)
	}
	p := img.Precision
	wantSlice := map[bool]int{len(img.U8) > 0: 8, len(img.U16) > 0: 16, len(img.U32) > 0: 32}[true]
	if p < 1 || p > 32 || p <= 8 != (wantSlice == 8) || p > 8 && p <= 16 != (wantSlice == 16) {
		t.Fatalf("precision %d in a %d-bit slice", p, wantSlice)
	}
	if p < 32 {
		limit := uint32(1)<<p - 1
		for i, v := range Samples(img) {
			if v > limit {
				t.Fatalf("sample %d is %d, over %d bits", i, v, p)
			}
		}
	}
	again, err := decode(bytes.Clone(src))
	if err != nil {
		t.Fatalf("decoded once, then failed: %v", err)
	}
	if again.Width != img.Width || again.Height != img.Height || again.Components != img.Components ||
		again.Precision != img.Precision || again.Signed != img.Signed || again.ColorSpace != img.ColorSpace ||
		!slices.Equal(Samples(again), Samples(img)) {
		t.Fatalf("two decodes of the same bytes differ")
	}
	return img
}

// AllocationBound is what one decode may allocate: 1 MiB of tables and
// state, plus 8 bytes per sample the code stream's own header declares (the
// output at 4 bytes a sample at most, and one copy while converting), or,
// when header cannot read it, 16 bytes per input byte.
func AllocationBound(src []byte, header func([]byte) (codec.StreamHeader, error)) uint64 {
	const base = 1 << 20
	if h, err := header(src); err == nil && h.Width > 0 && h.Height > 0 {
		return base + 8*uint64(h.Width)*uint64(h.Height)*uint64(max(h.Components, 1))
	}
	return base + 16*uint64(len(src))
}

// fuzzMaxSamples caps the samples a fuzzed code stream may declare (a
// 2048x2048 grey frame). A few hundred bytes can declare a 16384x1024 frame
// that decodes, in seconds and hundreds of MB: on a loaded machine the fuzzer
// took such an input for a hung worker and stopped (the input is kept as a
// seed of the JPEG 2000 target). Sizes up to codec.MaxPixels, and headers
// that disagree with the DICOM header, are the hostile-input tests' matter.
const fuzzMaxSamples = 4 << 20

// tooBigToFuzz reports whether src's header declares more than
// fuzzMaxSamples samples.
func tooBigToFuzz(src []byte, header func([]byte) (codec.StreamHeader, error)) bool {
	h, err := header(src)
	return err == nil && uint64(max(h.Width, 0))*uint64(max(h.Height, 0))*uint64(max(h.Components, 1)) > fuzzMaxSamples
}

// FuzzFrame0 is the fuzz test of a decoder whose code streams carry their own
// geometry: it is seeded with frame 0 of every corpus file in the transfer
// syntaxes uids (up to max bytes; larger ones are neither seeded nor fuzzed),
// and asserts CheckDecode on every input, and that a decode allocates no
// more than AllocationBound of what header reads.
func FuzzFrame0(f *testing.F, max int, decode func([]byte) (*codec.Image, error), header func([]byte) (codec.StreamHeader, error), uids ...string) {
	f.Helper()
	dir := Dir(f)
	for _, e := range Entries(f, dir, uids...) {
		src, err := Frame0(filepath.Join(dir, e.File), e.Frames())
		if err == nil && len(src) <= max {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > max || tooBigToFuzz(src, header) {
			return
		}
		CheckDecodeBounded(t, src, AllocationBound(src, header), decode)
	})
}

// BenchmarkFrame0 decodes frame 0 of each of the corpus files ids (in the
// transfer syntaxes uids), one sub-benchmark a file, reporting frames/s and
// decoded samples per second.
func BenchmarkFrame0(b *testing.B, decode func([]byte) (*codec.Image, error), ids []string, uids ...string) {
	b.Helper()
	dir := Dir(b)
	entries := Entries(b, dir, uids...)
	for _, id := range ids {
		e := Lookup(b, entries, id)
		src, err := Frame0(filepath.Join(dir, e.File), e.Frames())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(id, func(b *testing.B) {
			b.SetBytes(int64(e.DICOM.Rows * e.DICOM.Columns * e.DICOM.SamplesPerPixel))
			for b.Loop() {
				if _, err := decode(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
