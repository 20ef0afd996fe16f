package viewer

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"teleread/internal/allocs"
	"teleread/viewer/dataset"
)

// ctFrame makes a size x size signed 12-bit CT-like frame (a smooth ramp with
// structure), so the benchmark does not depend on a corpus file of that size.
func ctFrame(size int) *Frame {
	f := &Frame{Rows: size, Cols: size, Samples: 1, Color: Monochrome, BitsStored: 12, Signed: true,
		I16: make([]int16, size*size)}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			f.I16[y*size+x] = int16((x*7+y*13)%4096 - 2048)
		}
	}
	return f
}

// benchmarkRender measures one window/level change: a new Display each time, so
// the lookup table is rebuilt as during a drag.
func benchmarkRender(b *testing.B, size int) {
	f := ctFrame(size)
	var r CPURenderer
	if err := r.Upload(f); err != nil {
		b.Fatal(err)
	}
	dst := image.NewGray(image.Rect(0, 0, size, size))
	d := &Display{Slope: 1, Intercept: -1024, Window: Window{Center: 40, Width: 400}}
	b.SetBytes(int64(size * size * 2))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Window.Center = float64(40 + i%50)
		if err := r.Render(d, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderCT512 is the W/L re-render of a 512x512 CT frame (goal < 2 ms).
func BenchmarkRenderCT512(b *testing.B) { benchmarkRender(b, 512) }

// BenchmarkRenderCT2048 is the W/L re-render of a 2048x2048 frame (goal < 30 ms).
func BenchmarkRenderCT2048(b *testing.B) { benchmarkRender(b, 2048) }

// BenchmarkRenderCT2048To1024 renders a 2048x2048 frame into a 1024x1024 viewport.
func BenchmarkRenderCT2048To1024(b *testing.B) {
	f := ctFrame(2048)
	var r CPURenderer
	r.Upload(f)
	dst := image.NewRGBA(image.Rect(0, 0, 1024, 1024))
	d := &Display{Slope: 1, Window: Window{Center: 40, Width: 400}}
	for i := 0; i < b.N; i++ {
		d.Window.Center = float64(40 + i%50)
		if err := r.Render(d, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFrame decodes one frame of each corpus file by transfer syntax
// (frames per second = 1e9 / ns/op).
func BenchmarkDecodeFrame(b *testing.B) {
	dir := goldenCorpusDir(b)
	seen := map[string]bool{}
	for _, e := range loadManifest(b, dir) {
		ts := e.DICOM.TransferSyntaxUID
		if e.Reference.Status != "ok" || ts == "" || seen[ts] {
			continue
		}
		im, err := Open(filepath.Join(dir, e.File))
		if err != nil {
			continue
		}
		if _, err := im.Frame(0); err != nil {
			im.Close()
			continue
		}
		seen[ts] = true
		b.Run(ts+"/"+e.ID, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := im.Frame(i % im.NumFrames()); err != nil {
					b.Fatal(err)
				}
			}
		})
		im.Close()
	}
}

// TestPeakMemoryMultiframe checks that rendering frame 0 of the largest
// multi-frame corpus file allocates (and so holds at its peak) less than three
// times that frame's decoded size plus the file's size: frames are decoded alone.
func TestPeakMemoryMultiframe(t *testing.T) {
	dir := goldenCorpusDir(t)
	var big *manifestEntry
	entries := loadManifest(t, dir)
	for i, e := range entries {
		if e.Reference.Status == "ok" && e.Expectation.Render == "reference" && len(e.Reference.FrameSHA256) > 1 &&
			(big == nil || e.FileSize > big.FileSize) {
			big = &entries[i]
		}
	}
	if big == nil {
		t.Fatal("no multi-frame file in the corpus")
	}
	path := filepath.Join(dir, big.File)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	img, err := RenderFile(path, RenderOptions{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	_ = img
	sh := big.Reference.Shape
	itemSize := map[string]uint64{"|u1": 1, "|i1": 1, "<u2": 2, "<i2": 2, "<u4": 4, "<i4": 4, "<f4": 4, "<f8": 8}[big.Reference.Dtype]
	frame := uint64(sh[1]*sh[2]*sh[3]) * itemSize
	limit := 3*frame + uint64(big.FileSize)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%s: %d frames, frame %d bytes, file %d bytes: allocated %d bytes rendering frame 0 (limit %d)",
		big.ID, len(big.Reference.FrameSHA256), frame, big.FileSize, allocated, limit)
	if allocated >= limit {
		t.Errorf("allocated %d bytes rendering frame 0, limit %d", allocated, limit)
	}
}

// FuzzFrame parses arbitrary bytes as a DICOM file and decodes and renders its
// native frames: no panic, no unbounded allocation. Seeded from the corpus's
// uncompressed files.
func FuzzFrame(f *testing.F) {
	dir := goldenCorpusDir(f)
	for _, e := range loadManifest(f, dir) {
		switch e.DICOM.TransferSyntaxUID {
		case dataset.ImplicitVRLittleEndian, dataset.ExplicitVRLittleEndian, dataset.ExplicitVRBigEndian, dataset.DeflatedExplicitVRLittleEndian, "":
		default:
			continue
		}
		if e.FileSize > 128<<10 {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.File)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		file, err := dataset.Parse(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		if file.Pixel == nil || file.Pixel.Encapsulated {
			return
		}
		im, err := NewImage(file)
		if err != nil {
			return
		}
		for n := 0; n < im.NumFrames() && n < 3; n++ {
			// The bound: decoding and rendering a frame allocates in
			// proportion to the frame (at most 8 bytes a sample kept, 4 a
			// pixel drawn, the LUTs and scratch beside), and the frame is
			// bounded by the pixel data the input holds (NewImage checks).
			bound := uint64(2<<20) + 64*uint64(im.Rows)*uint64(im.Cols)*uint64(im.Samples)
			var fr *Frame
			var d *Display
			var err, rerr error
			got, over := allocs.Bytes(bound, func() {
				if fr, err = im.Frame(n); err != nil {
					return
				}
				if d, err = DefaultDisplay(im, fr); err != nil {
					return
				}
				_, rerr = RenderFrame(fr, d)
			})
			if over {
				t.Fatalf("frame %d of %dx%dx%d allocated %d, bound %d", n, im.Cols, im.Rows, im.Samples, got, bound)
			}
			if err != nil {
				continue
			}
			if fr.Len() != im.Rows*im.Cols*im.Samples {
				t.Fatalf("frame has %d samples for %dx%dx%d", fr.Len(), im.Rows, im.Cols, im.Samples)
			}
			if rerr != nil {
				t.Fatalf("render of a decoded frame: %v", rerr)
			}
		}
	})
}

// BenchmarkOpenDecode opens each sound corpus file, decodes every frame and
// closes it, as the decode section of the benchmark report measures; one
// sub-benchmark per file, named transfer-syntax/id.
func BenchmarkOpenDecode(b *testing.B) {
	dir := goldenCorpusDir(b)
	for _, e := range loadManifest(b, dir) {
		ts := e.DICOM.TransferSyntaxUID
		if e.Broken || e.Reference.Status != "ok" || ts == "" {
			continue
		}
		path := filepath.Join(dir, e.File)
		b.Run(ts+"/"+e.ID, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				im, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				for n := range im.NumFrames() {
					f, err := im.Frame(n)
					if err != nil {
						b.Fatal(err)
					}
					f.Recycle() // as GDCM's measure reuses its buffer
				}
				im.Close()
			}
		})
	}
}

// BenchmarkRenderCTViewport draws a 512x512 CT frame fitted into a 1170x884
// viewport (the app's stack-scroll case on the CPU renderer).
func BenchmarkRenderCTViewport(b *testing.B) {
	f := ctFrame(512)
	var r CPURenderer
	r.Upload(f)
	dst := image.NewRGBA(image.Rect(0, 0, 1170, 884))
	d := &Display{Slope: 1, Intercept: -1024, Window: Window{Center: 40, Width: 400}}
	for i := 0; i < b.N; i++ {
		if err := r.Upload(f); err != nil {
			b.Fatal(err)
		}
		if err := r.Render(d, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderUSViewport draws a new 320x240 YBR_FULL frame each time fitted
// into a 1170x884 viewport (cine on the CPU renderer).
func BenchmarkRenderUSViewport(b *testing.B) {
	f := &Frame{Rows: 240, Cols: 320, Samples: 3, Color: YBRFull, BitsStored: 8, U8: make([]uint8, 3*320*240)}
	for i := range f.U8 {
		f.U8[i] = uint8(i * 7)
	}
	var r CPURenderer
	dst := image.NewRGBA(image.Rect(0, 0, 1170, 884))
	d := &Display{}
	for i := 0; i < b.N; i++ {
		if err := r.Upload(f); err != nil {
			b.Fatal(err)
		}
		if err := r.Render(d, dst); err != nil {
			b.Fatal(err)
		}
	}
}
