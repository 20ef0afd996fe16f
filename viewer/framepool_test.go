package viewer

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"unsafe"

	"teleread/viewer/dataset"
)

// TestRecycledFrameMemory decodes frame 0 of one corpus file per transfer
// syntax into memory handed back by Recycle after it was filled with junk: the
// frame must still hash to the reference (recycled memory is zeroed and fully
// rewritten, whatever the decode path), and it must be the recycled memory
// (Recycle is what spares the allocation) for native and JPEG-LS frames.
func TestRecycledFrameMemory(t *testing.T) {
	dir := goldenCorpusDir(t)
	seen := map[string]bool{}
	for _, e := range loadManifest(t, dir) {
		ts := e.DICOM.TransferSyntaxUID
		r := &e.Reference
		if e.Broken || r.Status != "ok" || ts == "" || seen[ts] || len(r.FrameSHA256) == 0 ||
			e.Expectation.StoredValues == "approximate" {
			continue
		}
		im, err := Open(filepath.Join(dir, e.File))
		if err != nil {
			continue
		}
		first, err := im.Frame(0)
		if err != nil || len(first.block()) < minPooledFrame {
			im.Close()
			continue
		}
		seen[ts] = true
		t.Run(ts+"/"+e.ID, func(t *testing.T) {
			defer im.Close()
			framePool.Lock()
			framePool.free = nil // only this frame's memory to take
			framePool.Unlock()
			block := first.block()
			for i := range block {
				block[i] = 0xFF
			}
			first.Recycle()
			if first.block() != nil {
				t.Fatal("a recycled frame still has samples")
			}
			again, err := im.Frame(0)
			if err != nil {
				t.Fatalf("Frame(0) after Recycle: %v", err)
			}
			sum := sha256.Sum256(again.Bytes())
			if got := hex.EncodeToString(sum[:]); got != r.FrameSHA256[0] {
				t.Errorf("frame 0 decoded into recycled memory hashes %s, want %s", got[:12], r.FrameSHA256[0][:12])
			}
			// Codecs that hand over their own samples (adoptCodec) do not
			// draw from the pool, except JPEG-LS, which decodes into it;
			// native frames always do.
			intoPool := !im.File.Pixel.Encapsulated || ts == dataset.JPEGLSLossless || ts == dataset.JPEGLSNearLossless
			if intoPool && unsafe.SliceData(again.block()) != unsafe.SliceData(block) {
				t.Errorf("frame 0 was not decoded into the recycled memory")
			}
			again.Recycle()
		})
	}
	if len(seen) == 0 {
		t.Fatal("no corpus file with a frame large enough to recycle")
	}
}

// TestRecycledMemoryZeroed checks that a frame made from recycled memory starts
// zeroed, as make gives it: decoders that leave samples unwritten (a truncated
// RLE segment, a codec that stops early) must not show an earlier frame's pixels.
func TestRecycledMemoryZeroed(t *testing.T) {
	framePool.Lock()
	framePool.free = nil
	framePool.Unlock()
	old := &Frame{U8: make([]uint8, minPooledFrame)}
	for i := range old.U8 {
		old.U8[i] = 0xFF
	}
	p := unsafe.SliceData(old.U8)
	old.Recycle()
	s := makeSamples[uint16](minPooledFrame/2, true)
	if unsafe.SliceData(bytesOf(s)) != p {
		t.Fatal("the recycled block was not used")
	}
	for i, v := range s {
		if v != 0 {
			t.Fatalf("sample %d of a frame from recycled memory is %#x, want 0", i, v)
		}
	}
}
