package viewer

import (
	"errors"
	"image"
	"path/filepath"
	"runtime"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../testdata/hostile"

// allocated returns the bytes fn allocates (runtime.MemStats around the call).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestOpenHostileDims: headers whose Rows x Columns wrapped around (render
// panicked in image.NewGray and makeslice) are refused by Open with the
// reason, and refusing them allocates next to nothing.
func TestOpenHostileDims(t *testing.T) {
	for _, name := range []string{"rows_overflow_is.dcm", "rows_cols_wrap.dcm", "rows_negative.dcm", "frames_huge.dcm", "frames_encapsulated.dcm"} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				_, err = RenderFile(filepath.Join(hostileDir, name), RenderOptions{})
			})
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, dataset.ErrOutOfRange) {
				t.Errorf("got %v, want %v and %v", err, ErrInvalid, dataset.ErrOutOfRange)
			}
			if n > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", n)
			}
		})
	}
}

// TestRenderHostileFrame: a frame whose dimensions did not come through
// NewImage (built by hand, or by a codec) is checked before the CPU renderer
// sizes a picture from it.
func TestRenderHostileFrame(t *testing.T) {
	tests := []struct {
		name string
		f    *Frame
	}{
		{"rows overflow", &Frame{Rows: 4611686018427387905, Cols: 4, Samples: 1, U8: make([]uint8, 4)}},
		{"product wraps to -1", &Frame{Rows: 4294967297, Cols: 4294967295, Samples: 1, U8: make([]uint8, 1)}},
		{"wider than 65535", &Frame{Rows: 1, Cols: 65536, Samples: 1, U8: make([]uint8, 65536)}},
		{"fewer samples than pixels", &Frame{Rows: 4, Cols: 4, Samples: 1, U8: make([]uint8, 4)}},
		{"four samples", &Frame{Rows: 2, Cols: 2, Samples: 4, Color: RGB, U8: make([]uint8, 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				_, err = RenderFrame(tt.f, &Display{Window: Window{Center: 128, Width: 256}})
			})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want %v", err, ErrInvalid)
			}
			if n > 64<<10 {
				t.Errorf("refusing it allocated %d bytes", n)
			}
			var r CPURenderer
			if err := r.Upload(tt.f); !errors.Is(err, ErrInvalid) {
				t.Errorf("Upload: got %v, want %v", err, ErrInvalid)
			}
			if err := r.Render(&Display{}, image.NewGray(image.Rect(0, 0, 2, 2))); err == nil {
				t.Error("Render after a refused Upload succeeded")
			}
		})
	}
}

// TestRenderHostileCodeStreams: code streams whose own headers declare more
// than the DICOM header (16384 components, 60000x60000 pixels, 65025 tiles;
// a 664-byte file of them took 1.7 GB in OpenJPEG) are refused from their
// first bytes, before the decoder allocates.
func TestRenderHostileCodeStreams(t *testing.T) {
	for _, name := range []string{"j2k_components.dcm", "j2k_size.dcm", "j2k_tiles.dcm", "jpegls_size.dcm", "jpeg_size.dcm"} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				_, err = RenderFile(filepath.Join(hostileDir, name), RenderOptions{})
			})
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, codec.ErrMismatch) {
				t.Errorf("got %v, want %v and %v", err, ErrInvalid, codec.ErrMismatch)
			}
			if n > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", n)
			}
		})
	}
}
