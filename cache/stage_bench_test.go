package cache

import (
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"

	"teleread/cache/cachetest"
)

// BenchmarkBatchStage stages and commits a 300-instance JPEG-lossless CT
// series (166 KB each, as a retrieve brings them) into a fresh cache, with
// one and two staging goroutines.
func BenchmarkBatchStage(b *testing.B) {
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct2_jpeg_lossless_sv1.dcm"), b.TempDir(), 300)
	if err != nil {
		missing(b, err)
	}
	var files [][]byte
	var total int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
		total += int64(len(data))
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprint("workers", w), func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				b.StopTimer()
				c, err := Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				bt := c.NewBatch(SourceImport)
				var wg gosync.WaitGroup
				errs := make([]error, w)
				for k := range w {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := k; i < len(files) && errs[k] == nil; i += w {
							_, errs[k] = bt.AddBytes(files[i], paths[i])
						}
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				if _, err := bt.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
		})
	}
}
