package sync

import (
	"bytes"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"teleread/cache"
)

// failingReader gives the first n bytes of data, then fails as a connection
// cut mid-part does.
type failingReader struct {
	r *bytes.Reader
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// TestStagingSink hands a staging sink the parts of a series, one of them
// broken, on both paths (parts read whole, and parts staged as they stream):
// after each Flush every good part handed in is durable and counted (the
// instances and their bytes, the study's progress reaching them), the broken
// part's error comes back (from Part or Flush), and no temporary file is left anywhere
// in the cache.
func TestStagingSink(t *testing.T) {
	man := loadManifest(t)
	study, files := syntheticStudy(t, man["ct2_jpeg_lossless_sv1"], 6, 9)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	broken := []struct {
		name string
		part func() io.Reader
	}{
		{"truncated instance", func() io.Reader { return bytes.NewReader(files[0][:len(files[0])/2]) }},
		{"connection cut mid-part", func() io.Reader {
			return &failingReader{r: bytes.NewReader(files[1][:len(files[1])/2])}
		}},
		{"not DICOM", func() io.Reader { return strings.NewReader(strings.Repeat("not dicom ", 4000)) }},
	}
	for _, stream := range []bool{false, true} {
		for _, b := range broken {
			name := b.name
			if stream {
				name += ", streamed"
			}
			t.Run(name, func(t *testing.T) {
				if stream {
					stageInMemory = 1 << 10
					defer func() { stageInMemory = 16 << 20 }()
				}
				c, err := cache.OpenTemp(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var events []Event
				p := &Puller{Store: c, OnEvent: func(e Event) { events = append(events, e) }}
				progress := &studyProgress{p: p, uid: study, fast: true, total: len(files),
					expected: map[string]bool{}, seen: map[string]bool{}}
				sink := p.newSink(progress)
				if _, ok := sink.(*stagingSink); !ok {
					t.Fatalf("the cache gets a %T, want a staging sink", sink)
				}
				for _, f := range files[:3] {
					if err := sink.Part(bytes.NewReader(f)); err != nil {
						t.Fatalf("good part: %v", err)
					}
				}
				// The broken part's error comes from Part (a read that
				// failed) or from Flush (staging that failed).
				perr := sink.Part(b.part())
				if ferr := sink.Flush(); perr == nil && ferr == nil {
					t.Errorf("a broken part: no error from Part or Flush")
				}
				for _, f := range files[3:] {
					if err := sink.Part(bytes.NewReader(f)); err != nil {
						t.Fatalf("good part after the broken one: %v", err)
					}
				}
				if err := sink.Flush(); err != nil {
					t.Fatalf("Flush: %v", err)
				}
				fetched, received, done := progress.counts()
				if fetched != len(files) || done != len(files) || received != size {
					t.Errorf("counted %d instances (done %d), %d bytes; want %d, %d bytes", fetched, done, received, len(files), size)
				}
				if n := len(events); n == 0 || events[n-1].Done != len(files) || events[n-1].Bytes != size {
					t.Errorf("last progress event %+v, want done %d, %d bytes", events[max(n-1, 0):], len(files), size)
				}
				insts, err := c.AllInstances()
				if err != nil || len(insts) != len(files) {
					t.Errorf("%d instances durable (%v), want %d", len(insts), err, len(files))
				}
				_ = filepath.WalkDir(c.Home(), func(path string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() && strings.HasSuffix(path, ".part") {
						t.Errorf("left behind: %s", path)
					}
					return nil
				})
				if probs, err := c.Verify(); err != nil || len(probs) != 0 {
					t.Errorf("verify: %v %v", probs, err)
				}
			})
		}
	}
}
