package jpegls

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// charLSOnly decodes src with CharLS alone, the fast scan decoder off.
func charLSOnly(src []byte) (*codec.Image, error) {
	fastScans = false
	defer func() { fastScans = true }()
	return Decode(src)
}

// fastOnly decodes src's one scan with fastscan.c alone, in C memory of the
// exact sizes (decodeFastExact), and reports false where it does not take or
// declines the stream.
func fastOnly(src []byte) (*codec.Image, bool) {
	h, err := DecodeHeader(src)
	if err != nil {
		return nil, false
	}
	s, ok := findPlainScan(src, h)
	if !ok {
		return nil, false
	}
	img := &codec.Image{Width: h.Width, Height: h.Height, Components: 1, Precision: h.Precision}
	n := h.Width * h.Height
	if h.Precision <= 8 {
		img.U8 = make([]uint8, n)
		ok = decodeFastExact(s, h, img.U8)
	} else {
		img.U16 = make([]uint16, n)
		ok = decodeFastExact(s, h, img.U16)
	}
	return img, ok
}

// testImage makes a w x h image of the given depth with every kind of area
// JPEG-LS codes differently: flat runs (run mode, with interruptions), a
// smooth ramp (regular mode, small errors), noise (large errors, escapes)
// and hard edges (every gradient bucket). An image 20,000 or more wide is
// flat but for a sample in every 30,000, so that runs reach the last entries
// of T.87's run-length table (J up to 15, 32,768 samples a step).
func testImage(w, h, bits int, seed uint64) []uint16 {
	r := rand.New(rand.NewPCG(seed, 7))
	maxval := 1<<bits - 1
	out := make([]uint16, w*h)
	if w >= 20000 {
		for i := range out {
			if i%30011 == 30010 {
				out[i] = uint16(r.IntN(maxval + 1))
			}
		}
		return out
	}
	for y := range h {
		for x := range w {
			var v int
			switch (x/7 + y/5) % 4 {
			case 0: // flat
				v = maxval / 3
			case 1: // ramp
				v = (x*13 + y*7) % (maxval + 1)
			case 2: // noise
				v = r.IntN(maxval + 1)
			default: // edges: alternate black and white with a little noise
				v = (x % 2) * maxval
				if r.IntN(4) == 0 {
					v = r.IntN(maxval + 1)
				}
			}
			out[y*w+x] = uint16(v)
		}
	}
	return out
}

// encodeTest encodes img with CharLS at p.bits, as uint8 samples when the
// depth allows.
func encodeTest(t testing.TB, img []uint16, p encodeParams) []byte {
	t.Helper()
	var src []byte
	var err error
	if p.bits <= 8 {
		u8 := make([]uint8, len(img))
		for i, v := range img {
			u8[i] = uint8(v)
		}
		src, err = encodeOne(u8, p)
	} else {
		src, err = encodeOne(img, p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// fastScanCases are coding parameters across the range the fast decoder
// takes: every depth class, lossless and near-lossless, default and
// explicit thresholds, RESET small and large, one-sample-wide and one-line
// images.
func fastScanCases() []encodeParams {
	var ps []encodeParams
	for _, bits := range []int{2, 3, 5, 8, 10, 12, 15, 16} {
		for _, near := range []int{0, 1, 3, 12} {
			if 2*near > 1<<bits-1 {
				continue
			}
			ps = append(ps, encodeParams{width: 67, height: 41, bits: bits, near: near})
		}
	}
	return append(ps,
		encodeParams{width: 1, height: 50, bits: 12, near: 0},
		encodeParams{width: 50, height: 1, bits: 16, near: 2},
		encodeParams{width: 1, height: 1, bits: 8, near: 0},
		encodeParams{width: 512, height: 64, bits: 16, near: 4},
		encodeParams{width: 65535, height: 4, bits: 8, near: 0},
		encodeParams{width: 40000, height: 3, bits: 16, near: 7},
		encodeParams{width: 97, height: 33, bits: 12, near: 0, t1: 5, t2: 40, t3: 300},
		encodeParams{width: 97, height: 33, bits: 16, near: 2, t1: 9, t2: 9, t3: 9, reset: 3},
		encodeParams{width: 97, height: 33, bits: 8, near: 0, reset: 255},
		encodeParams{width: 97, height: 33, bits: 10, near: 5, maxval: 1023, t1: 20, t2: 100, t3: 1000, reset: 17},
	)
}

// TestFastScanMatchesCharLS encodes images with CharLS under many coding
// parameters and checks that the fast decoder takes every stream and gives
// the original image back (exactly, or within NEAR) and the very samples
// CharLS gives.
func TestFastScanMatchesCharLS(t *testing.T) {
	for i, p := range fastScanCases() {
		t.Run(fmt.Sprintf("%dx%d_%dbit_near%d_t%d-%d-%d_reset%d", p.width, p.height, p.bits, p.near, p.t1, p.t2, p.t3, p.reset), func(t *testing.T) {
			orig := testImage(p.width, p.height, p.bits, uint64(i))
			src := encodeTest(t, orig, p)
			want, err := charLSOnly(src)
			if err != nil {
				t.Fatalf("CharLS: %v", err)
			}
			got, ok := fastOnly(src)
			if !ok {
				t.Fatal("the fast decoder declined a stream CharLS encoded")
			}
			gs, ws := corpus.Samples(got), corpus.Samples(want)
			if !slices.Equal(gs, ws) {
				i := 0
				for i < len(gs) && gs[i] == ws[i] {
					i++
				}
				t.Fatalf("sample %d (x %d, y %d): fast %d, CharLS %d", i, i%p.width, i/p.width, gs[i], ws[i])
			}
			for i, v := range gs {
				d := int(v) - int(orig[i])
				if d < -p.near || d > p.near {
					t.Fatalf("sample %d: %d decoded, %d encoded, NEAR %d", i, v, orig[i], p.near)
				}
			}
			// Through the package's entry point, which must take the
			// fast path and give the same.
			img, err := Decode(src)
			if err != nil || !slices.Equal(corpus.Samples(img), ws) {
				t.Fatalf("Decode: %v, or other samples", err)
			}
		})
	}
}

// TestFastScanTakesCorpus checks that every one-component JPEG-LS file of
// the corpus goes through the fast decoder (so TestDecodeCorpus holds it to
// the independent reference decodes) and that it agrees with CharLS there.
func TestFastScanTakesCorpus(t *testing.T) {
	dir, entries := corpus.Listed(t, tsLossless, tsNearLossless)
	taken := 0
	for _, e := range entries {
		src := corpus.EntryFrame0(t, dir, &e)
		h, err := DecodeHeader(src)
		if err != nil || h.Components != 1 {
			continue
		}
		t.Run(e.ID, func(t *testing.T) {
			got, ok := fastOnly(src)
			if !ok {
				t.Fatal("the fast decoder declined a one-component corpus stream")
			}
			want, err := charLSOnly(src)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(corpus.Samples(got), corpus.Samples(want)) {
				t.Fatal("fast and CharLS decodes differ")
			}
			corpus.CheckStored(t, dir, &e, got)
		})
		taken++
	}
	if taken < 2 {
		t.Fatalf("%d one-component JPEG-LS files in the corpus; want the CT and the MR at least", taken)
	}
}

// TestFastScanDeclines checks that streams a valid encoder does not make are
// left to CharLS: the fast decoder declines them, so CharLS's error (or
// decode) is the answer.
func TestFastScanDeclines(t *testing.T) {
	p := encodeParams{width: 64, height: 48, bits: 12, near: 0}
	src := encodeTest(t, testImage(p.width, p.height, p.bits, 1), p)
	eoi := len(src) - 2
	if !bytes.Equal(src[eoi:], []byte{0xFF, 0xD9}) {
		t.Fatal("CharLS's stream does not end with EOI")
	}
	splice := func(at int, b ...byte) []byte {
		return slices.Concat(src[:at], b, src[at:])
	}
	cut := func(n int) []byte { return slices.Concat(src[:eoi-n], src[eoi:]) }
	cases := []struct {
		name string
		src  []byte
	}{
		{"data cut by 1 byte", cut(1)},
		{"data cut by 40 bytes", cut(40)},
		{"data followed by more data", splice(eoi, 0x55, 0x66, 0x12)},
		{"data followed by one zero byte", splice(eoi, 0x00)},
		{"restart interval", splice(2, 0xFF, 0xDD, 0, 4, 0, 8)},
		{"mapping table", splice(2, 0xFF, 0xF8, 0, 6, 2, 1, 1, 0)},
		{"scan of another component", func() []byte {
			b := slices.Clone(src)
			sos := bytes.Index(b, []byte{0xFF, 0xDA, 0, 8, 1})
			b[sos+5]++
			return b
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := fastOnly(c.src); ok {
				t.Fatal("the fast decoder took it")
			}
			// Whatever CharLS says, the package says.
			want, werr := charLSOnly(c.src)
			got, gerr := Decode(c.src)
			if (werr == nil) != (gerr == nil) || werr == nil && !slices.Equal(corpus.Samples(got), corpus.Samples(want)) {
				t.Fatalf("Decode %v, CharLS %v", gerr, werr)
			}
		})
	}
}

// FuzzFastScan holds the fast decoder to CharLS on any input: where it
// decodes a stream, CharLS must decode it to the same samples.
func FuzzFastScan(f *testing.F) {
	for i, p := range fastScanCases() {
		if p.width*p.height <= 4096 {
			f.Add(encodeTest(f, testImage(p.width, p.height, p.bits, uint64(i)), p))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		h, err := DecodeHeader(src)
		if err != nil || h.Width*h.Height > 1<<18 {
			return
		}
		got, ok := fastOnly(src)
		if !ok {
			return
		}
		want, err := charLSOnly(src)
		if err != nil {
			t.Fatalf("the fast decoder took a stream CharLS refuses: %v", err)
		}
		if !slices.Equal(corpus.Samples(got), corpus.Samples(want)) {
			t.Fatal("fast and CharLS decodes differ")
		}
	})
}

// FuzzFastScanImages has CharLS encode images and coding parameters made
// from the input and holds the fast decoder to both the image (exact, or
// within NEAR) and CharLS's decode: valid streams of every shape, where the
// mutations of FuzzFastScan mostly make streams both decoders refuse.
func FuzzFastScanImages(f *testing.F) {
	f.Add([]byte{7, 9, 11, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 3, 3, 3, 3, 3, 3})
	f.Add([]byte{15, 30, 3, 4, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0x80, 0x01, 0x80, 0x01, 0x80, 0x01})
	f.Add([]byte{1, 1, 7, 0, 5, 9, 30, 10, 0x55})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 9 {
			return
		}
		p := encodeParams{
			width:  int(in[0])%64 + 1,
			height: int(in[1])%64 + 1,
			bits:   int(in[2])%15 + 2,
		}
		maxval := 1<<p.bits - 1
		p.near = int(in[3]) % (min(maxval/2, 255) + 1) % 32
		// Explicit thresholds and RESET now and then, each valid alone
		// (CharLS's encoder refuses the rest, which is no test).
		if in[4]&1 != 0 {
			p.t1 = p.near + 1 + int(in[5])%8
			p.t2 = p.t1 + int(in[6])%16
			p.t3 = p.t2 + int(in[7])%64
			if p.t3 > maxval {
				p.t1, p.t2, p.t3 = 0, 0, 0
			}
		}
		if in[4]&2 != 0 {
			p.reset = 3 + int(in[8])%253
		}
		// Samples: the rest of the input, repeated; a byte b paints a
		// run of b%4+1 samples so that run mode has work.
		img := make([]uint16, p.width*p.height)
		src := in[9:]
		for i, j := 0, 0; i < len(img) && len(src) > 0; j++ {
			b := src[j%len(src)]
			v := (uint16(b) * 2579) & uint16(maxval)
			for range int(b)%4 + 1 {
				if i < len(img) {
					img[i] = v
					i++
				}
			}
		}
		stream, err := func() ([]byte, error) {
			if p.bits <= 8 {
				u8 := make([]uint8, len(img))
				for i, v := range img {
					u8[i] = uint8(v)
				}
				return encodeOne(u8, p)
			}
			return encodeOne(img, p)
		}()
		if err != nil {
			return // parameters CharLS does not encode
		}
		want, err := charLSOnly(stream)
		if err != nil {
			t.Fatalf("CharLS refuses its own stream %+v: %v", p, err)
		}
		got, ok := fastOnly(stream)
		if !ok {
			t.Fatalf("the fast decoder declined a stream CharLS encoded with %+v", p)
		}
		gs := corpus.Samples(got)
		if !slices.Equal(gs, corpus.Samples(want)) {
			t.Fatalf("fast and CharLS decodes differ for %+v", p)
		}
		for i, v := range gs {
			if d := int(v) - int(img[i]); d < -p.near || d > p.near {
				t.Fatalf("sample %d: %d decoded, %d encoded, %+v", i, v, img[i], p)
			}
		}
	})
}
