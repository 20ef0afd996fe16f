package main

import (
	"path/filepath"
	"testing"

	"teleread/internal/corpustest"
)

// rssSlackKiB absorbs what does not scale with the frame: the Go heap grows
// in 4 MiB arenas, glibc keeps freed memory per thread, the PNG encoder's
// zlib state, and the code stream of a compressed frame (read once, copied
// once more by OpenJPEG, whose int32 samples are the two frames of a 16-bit
// JPEG 2000 render).
const rssSlackKiB = 8 << 10

// TestCorpusRSSCLI runs info, import and render (CPU renderer) on every
// decodable corpus file as a subprocess and reads its peak RSS (getrusage of
// the child): what a file costs above the same command on the smallest image
// of the corpus must stay under twice its decoded frame (plus rssSlackKiB),
// whatever its size, codec or frame count (frames are decoded one at a
// time, and indexing decodes none).
func TestCorpusRSSCLI(t *testing.T) {
	dir, entries := corpustest.Load(t)
	peak := func(cmd, path string) int64 {
		args := []string{cmd, path}
		if cmd == "render" {
			args = []string{"render", "--renderer", "cpu", "-o", filepath.Join(t.TempDir(), "x.png"), path}
		}
		r := teleread(t, t.TempDir(), args...)
		if r.code != 0 {
			t.Fatalf("%s %s: exit %d: %s", cmd, filepath.Base(path), r.code, r.stderr)
		}
		return r.maxRSSKiB
	}
	base := map[string]int64{}
	for _, cmd := range []string{"info", "import", "render"} {
		base[cmd] = peak(cmd, corpustest.Lookup(t, entries, "mr_small_explicit_le").Path(dir))
	}
	t.Logf("baseline peak RSS: info %d MiB, import %d MiB, render %d MiB", base["info"]>>10, base["import"]>>10, base["render"]>>10)
	for _, e := range entries {
		if e.Expectation.Render != "reference" {
			continue
		}
		d := e.DICOM
		frameKiB := int64(d.Rows) * int64(d.Columns) * int64(d.SamplesPerPixel) * int64(max(d.BitsAllocated, 8)/8) >> 10
		path := e.Path(dir)
		for _, cmd := range []string{"info", "import", "render"} {
			t.Run(e.ID+"/"+cmd, func(t *testing.T) {
				got := peak(cmd, path) - base[cmd]
				if limit := 2*frameKiB + rssSlackKiB; got > limit {
					t.Errorf("peak RSS %d KiB above the baseline for a frame of %d KiB, want at most %d", got, frameKiB, limit)
				}
				t.Logf("%d KiB above the baseline, frame %d KiB (%.1f frames)", got, frameKiB, float64(got)/float64(max(frameKiB, 1)))
			})
		}
	}
}
