package cache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
)

func BenchmarkBatchStage(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct2_jpeg_lossless_sv1.dcm"))
	if err != nil {
		b.Skip(err)
	}
	sop := []byte("1.3.6.1.4.1.5962.1.1.2.1.4.20040826185059.5457")
	if !bytes.Contains(data, sop) {
		b.Skip("uid")
	}
	var files [][]byte
	for i := 0; i < 300; i++ {
		u := []byte(fmt.Sprintf("%s%05d", sop[:len(sop)-5], i))
		files = append(files, bytes.ReplaceAll(data, sop, u))
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprint("workers", w), func(b *testing.B) {
			b.SetBytes(int64(len(data) * 300))
			for b.Loop() {
				b.StopTimer()
				c, _ := Open(b.TempDir())
				b.StartTimer()
				bt := c.NewBatch()
				var wg gosync.WaitGroup
				for k := 0; k < w; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := k; i < 300; i += w {
							if _, err := bt.Add(bytes.NewReader(files[i]), "x"); err != nil {
								panic(err)
							}
						}
					}()
				}
				wg.Wait()
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
