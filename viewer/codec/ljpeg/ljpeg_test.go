package ljpeg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"teleread/viewer/codec"
)

// testPlanes makes nc planes of w*h samples below 2^precision: a smooth ramp
// with noise for the first component, uniform noise (large differences, long
// codes) for the others.
func testPlanes(w, h, nc, precision int, seed uint64) [][]uint16 {
	r := rand.New(rand.NewPCG(seed, 7))
	max := 1 << precision
	planes := make([][]uint16, nc)
	for c := range planes {
		p := make([]uint16, w*h)
		for i := range p {
			if c == 0 {
				x, y := i%w, i/w
				p[i] = uint16((x*max/(w+1) + y*7 + r.IntN(5)) % max)
			} else {
				p[i] = uint16(r.IntN(max))
			}
		}
		planes[c] = p
	}
	return planes
}

// checkDecode compares a decoded image with the planar samples it was encoded
// from, after the point transform.
func checkDecode(t *testing.T, img *codec.Image, p encParams, planes [][]uint16) {
	t.Helper()
	if img.Width != p.w || img.Height != p.h || img.Components != p.nc || img.Precision != p.precision {
		t.Fatalf("decoded %dx%dx%d P%d, want %dx%dx%d P%d", img.Width, img.Height, img.Components, img.Precision,
			p.w, p.h, p.nc, p.precision)
	}
	if (p.precision <= 8) != (img.U8 != nil) || (p.precision > 8) != (img.U16 != nil) {
		t.Fatalf("precision %d decoded into the wrong sample type", p.precision)
	}
	bad := 0
	for c, plane := range planes {
		for i, v := range plane {
			want := uint32(v >> p.pt << p.pt)
			var got uint32
			if img.U8 != nil {
				got = uint32(img.U8[i*p.nc+c])
			} else {
				got = uint32(img.U16[i*p.nc+c])
			}
			if got != want {
				if bad < 3 {
					t.Errorf("component %d sample %d (x %d y %d): %d, want %d", c, i, i%p.w, i/p.w, got, want)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d samples differ", bad)
	}
}

// TestRoundTrip encodes images with the test encoder over every predictor,
// several precisions, point transforms, component layouts and restart
// intervals, and checks the decoder gives the samples back.
func TestRoundTrip(t *testing.T) {
	const w, h = 13, 9
	seed := uint64(1)
	for _, precision := range []int{2, 5, 8, 9, 12, 16} {
		for psv := 1; psv <= 7; psv++ {
			for _, pt := range []int{0, 1, precision - 1} {
				for _, layout := range []struct {
					nc          int
					interleaved bool
				}{{1, true}, {3, true}, {3, false}, {4, true}} {
					for _, restart := range []int{0, w, 2 * w, 5, 1} {
						p := encParams{w: w, h: h, nc: layout.nc, precision: precision, psv: psv, pt: pt,
							restart: restart, interleaved: layout.interleaved}
						name := fmt.Sprintf("P%d/sv%d/pt%d/nc%d-il%v/ri%d", precision, psv, pt, layout.nc, layout.interleaved, restart)
						seed++
						planes := testPlanes(w, h, layout.nc, precision, seed)
						if psv == 6 && precision == 16 {
							// Keep predictor 6 rows clear of the overflow test
							// (TestPredictor6Overflow covers it).
							for _, pl := range planes {
								for i := range pl {
									pl[i] %= 50000
								}
							}
						}
						t.Run(name, func(t *testing.T) {
							img, err := Decode(encodeLossless(p, planes))
							if err != nil {
								t.Fatal(err)
							}
							checkDecode(t, img, p, planes)
						})
					}
				}
			}
		}
	}
}

// TestDifference32768 covers the 16-bit special case of T.81 H.1.2.2: the
// difference 32768 is coded as category 16 with no extra bits.
func TestDifference32768(t *testing.T) {
	plane := []uint16{0, 32768, 0, 32768, 65535, 32767, 0, 1}
	p := encParams{w: 4, h: 2, nc: 1, precision: 16, psv: 1}
	img, err := Decode(encodeLossless(p, [][]uint16{plane}))
	if err != nil {
		t.Fatal(err)
	}
	checkDecode(t, img, p, [][]uint16{plane})
}

// TestPredictor6Overflow decodes streams whose predictor 6 rows were coded with
// the signed 16-bit arithmetic of an old encoder, which GDCM (and so the corpus
// references) recognises by the spread of the first predictor 6 row.
func TestPredictor6Overflow(t *testing.T) {
	for _, tc := range []struct {
		name string
		nc   int
		il   bool
		ri   int
	}{{"grey", 1, true, 0}, {"grey restarts", 1, true, 32}, {"rgb interleaved", 3, true, 0}, {"rgb planar", 3, false, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			p := encParams{w: 16, h: 6, nc: tc.nc, precision: 16, psv: 6, restart: tc.ri, interleaved: tc.il, pred6Int16: true}
			planes := testPlanes(p.w, p.h, p.nc, 16, 11)
			// Signed data around zero, as CT stores it: the first predictor 6
			// row spans 0..65535.
			for _, pl := range planes {
				for i := range pl {
					pl[i] = uint16(int16(pl[i]%2000) - 1000)
				}
			}
			img, err := Decode(encodeLossless(p, planes))
			if err != nil {
				t.Fatal(err)
			}
			checkDecode(t, img, p, planes)
		})
	}
}

// TestModularPrediction checks the predictor arithmetic against values worked
// out by hand from T.81 H.2.1 with libjpeg's int arithmetic, including results
// that leave 0..65535 and wrap.
func TestModularPrediction(t *testing.T) {
	prev := []uint16{65535, 65535, 0, 40000}
	tests := []struct {
		psv  int
		diff []int32
		want []uint16
	}{
		// x=0 is always Rb + diff. x=1 with Ra = cur[0], Rb = prev[1], Rc = prev[0].
		{1, []int32{1, 5, 0, 0}, []uint16{0, 5, 5, 5}}, // 65535+1 wraps to 0
		{4, []int32{0, 3, 0, 0}, []uint16{65535, 2, 3, 40003}},
		{5, []int32{0, 0, 0, 0}, []uint16{65535, 65535, 32767, 52767}},
		// Ra is kept modulo 2^16: 49152, not -16384, feeds the last prediction.
		{6, []int32{-65535, 0, 0, 0}, []uint16{0, 32767, 49152, 64576}},
		{7, []int32{0, 1, 0, 0}, []uint16{65535, 0, 0, 20000}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("sv%d", tc.psv), func(t *testing.T) {
			cur := make([]uint16, len(prev))
			reconstruct2D(cur, prev, tc.diff, tc.psv)
			if fmt.Sprint(cur) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", cur, tc.want)
			}
		})
	}
}

// TestErrors feeds streams that must be refused with the right sentinel.
func TestErrors(t *testing.T) {
	good := encodeLossless(encParams{w: 8, h: 4, nc: 1, precision: 12, psv: 1}, testPlanes(8, 4, 1, 12, 1))
	sosAt := func(b []byte) int {
		for i := 0; i+1 < len(b); i++ {
			if b[i] == 0xFF && b[i+1] == 0xDA {
				return i
			}
		}
		panic("no SOS")
	}
	patch := func(off int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[off] = v
		return b
	}
	patch2 := func(off int, v, w byte) []byte {
		b := patch(off, v)
		b[off+1] = w
		return b
	}
	sos := sosAt(good)
	tests := []struct {
		name string
		src  []byte
		want error
	}{
		{"empty", nil, codec.ErrCorrupt},
		{"no SOI", []byte{0xFF, 0xD9}, codec.ErrCorrupt},
		{"only SOI", []byte{0xFF, 0xD8}, codec.ErrCorrupt},
		{"baseline SOF0", patch(3, 0xC0), codec.ErrUnsupported},
		{"progressive SOF2", patch(3, 0xC2), codec.ErrUnsupported},
		{"arithmetic SOF11", patch(3, 0xCB), codec.ErrUnsupported},
		{"precision 17", patch(6, 17), codec.ErrCorrupt},
		{"precision 1", patch(6, 1), codec.ErrCorrupt},
		{"height 0 (DNL)", patch2(7, 0, 0), codec.ErrUnsupported},
		{"width 0", patch2(9, 0, 0), codec.ErrCorrupt},
		{"over MaxPixels", func() []byte { b := patch2(7, 0xFF, 0xFF); b[9], b[10] = 0xFF, 0xFF; return b }(), codec.ErrCorrupt},
		{"more samples than bits", func() []byte { b := patch2(7, 0x10, 0); b[9], b[10] = 0x10, 0; return b }(), codec.ErrCorrupt},
		{"duplicate SOF", append(append(good[:15:15], good[2:15]...), good[15:]...), codec.ErrCorrupt},
		{"DAC arithmetic", append([]byte{0xFF, 0xD8, 0xFF, 0xCC, 0, 2}, good[2:]...), codec.ErrUnsupported},
		{"predictor 0", patch(sos+4+1+2, 0), codec.ErrUnsupported},
		{"predictor 8", patch(sos+4+1+2, 8), codec.ErrCorrupt},
		{"point transform = precision", patch(sos+4+1+2+2, 12), codec.ErrCorrupt},
		{"undefined table", patch(sos+4+2, 0x30), codec.ErrCorrupt},
		{"unknown component", patch(sos+4+1, 9), codec.ErrCorrupt},
		{"SOS length", patch(sos+3, 0x20), codec.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(tc.src)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (image %v), want %v", err, img != nil, tc.want)
			}
		})
	}
}

// TestTruncated cuts a stream at every length: every cut before the EOI marker
// must give ErrCorrupt (never a panic, hang or silent success), and a stream
// missing only its EOI decodes as libjpeg does.
func TestTruncated(t *testing.T) {
	for _, restart := range []int{0, 5} {
		p := encParams{w: 16, h: 8, nc: 3, precision: 16, psv: 4, restart: restart, interleaved: restart == 0}
		planes := testPlanes(p.w, p.h, p.nc, p.precision, 3)
		src := encodeLossless(p, planes)
		for n := 0; n < len(src)-2; n++ {
			img, err := Decode(src[:n])
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("restart %d, cut at %d of %d: got %v (image %v), want ErrCorrupt", restart, n, len(src), err, img != nil)
			}
		}
		img, err := Decode(src[:len(src)-2])
		if err != nil {
			t.Fatalf("restart %d, no EOI: %v", restart, err)
		}
		checkDecode(t, img, p, planes)
	}
}

// TestMissingRestartMarker removes the RST markers of a stream with restart
// intervals.
func TestMissingRestartMarker(t *testing.T) {
	p := encParams{w: 16, h: 8, nc: 1, precision: 8, psv: 1, restart: 16}
	src := encodeLossless(p, testPlanes(p.w, p.h, p.nc, p.precision, 4))
	var cut []byte
	for i := 0; i < len(src); i++ {
		if src[i] == 0xFF && i+1 < len(src) && src[i+1] >= 0xD0 && src[i+1] <= 0xD7 {
			i++
			continue
		}
		cut = append(cut, src[i])
	}
	if _, err := Decode(cut); !errors.Is(err, codec.ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}
