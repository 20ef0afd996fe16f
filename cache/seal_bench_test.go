package cache

import (
	"fmt"
	"path/filepath"
	"testing"

	"teleread/cache/cachetest"
	"teleread/viewer"
)

// BenchmarkSealImport and BenchmarkSealRender are the pair behind issue 15's
// floor: import, and open + decode + render of cached files, with the files
// sealed (as shipped) and plain. make bench prints their ratio
// (cmd/benchreport, section seal).
func BenchmarkSealImport(b *testing.B) {
	for _, id := range []string{"ct_small_explicit_le", "mr_overlay_two_windows"} {
		paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", id+".dcm"), b.TempDir(), 50)
		if err != nil {
			missing(b, err)
		}
		for _, sealed := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/sealed=%v", id, sealed), func(b *testing.B) {
				sealFiles = sealed
				defer func() { sealFiles = true }()
				for b.Loop() {
					b.StopTimer()
					c, err := Open(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if sum := c.ImportPaths(paths, nil); sum.Imported != len(paths) {
						b.Fatalf("imported %d of %d", sum.Imported, len(paths))
					}
					b.StopTimer()
					c.Close()
					b.StartTimer()
				}
			})
		}
	}
}

func BenchmarkSealRender(b *testing.B) {
	for _, id := range []string{"ct_small_explicit_le", "mr_overlay_two_windows"} {
		paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", id+".dcm"), b.TempDir(), 50)
		if err != nil {
			missing(b, err)
		}
		for _, sealed := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/sealed=%v", id, sealed), func(b *testing.B) {
				sealFiles = sealed // plain: written and read as before sealing
				defer func() { sealFiles = true }()
				c, err := Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				c.ImportPaths(paths, nil)
				insts, err := c.AllInstances()
				if err != nil || len(insts) != len(paths) {
					b.Fatalf("%d instances: %v", len(insts), err)
				}
				for b.Loop() {
					for _, in := range insts {
						f, err := c.OpenInstance(in.SOPInstanceUID)
						if err != nil {
							b.Fatal(err)
						}
						im, err := viewer.OpenFile(f)
						if err != nil {
							b.Fatal(err)
						}
						fr, err := im.Frame(0)
						if err != nil {
							b.Fatal(err)
						}
						d, err := viewer.DefaultDisplay(im, fr)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := viewer.RenderFrame(fr, d); err != nil {
							b.Fatal(err)
						}
						im.Close()
					}
				}
			})
		}
	}
}
