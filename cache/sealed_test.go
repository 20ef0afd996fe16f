package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sealfile "teleread/cache/seal"
	"teleread/viewer"
)

// storedBytes returns instance sop's bytes as the cache hands them out.
func storedBytes(t testing.TB, c *Cache, sop string) []byte {
	t.Helper()
	st, err := c.OpenStored(sop)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := make([]byte, st.Size())
	if _, err := st.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealedRoundTrip imports every corpus file, in memory and down the
// streamed path, and wants each stored file sealed on disk (no DICM marker,
// no patient name) and handed back byte-identical.
func TestSealedRoundTrip(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		name := "in memory"
		if streamed {
			name = "streamed"
		}
		t.Run(name, func(t *testing.T) {
			if streamed {
				smallInstance = 1 << 10
				defer func() { smallInstance = 16 << 20 }()
			}
			c := openTemp(t)
			entries, err := os.ReadDir(filepath.Join(corpusDir, "files"))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range entries {
				src := filepath.Join(corpusDir, "files", e.Name())
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.Import(bytes.NewReader(data), src)
				if err != nil {
					continue // rejected or a duplicate of another corpus file
				}
				n++
				disk, err := os.ReadFile(res.Path)
				if err != nil {
					t.Fatal(err)
				}
				if !sealfile.IsSealed(disk) || bytes.Contains(disk, []byte("DICM")) {
					t.Errorf("%s: stored plain", e.Name())
				}
				if got := storedBytes(t, c, res.SOPInstanceUID); !bytes.Equal(got, data) {
					t.Errorf("%s: bytes handed back differ from those imported", e.Name())
				}
			}
			if n < 40 {
				t.Fatalf("only %d corpus files imported", n)
			}
			if probs, err := c.Verify(); err != nil || len(probs) != 0 {
				t.Errorf("verify: %v %v", probs, err)
			}
		})
	}
}

// TestSealedTamperNamesFile: a stored file with one byte changed, cut short,
// or swapped with another instance's file is refused on open and by Verify,
// naming the file.
func TestSealedTamperNamesFile(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, a, b string)
	}{
		{"byte changed", func(t *testing.T, a, _ string) {
			d, _ := os.ReadFile(a)
			d[len(d)/2] ^= 1
			os.WriteFile(a, d, 0o600)
		}},
		{"cut short", func(t *testing.T, a, _ string) {
			d, _ := os.ReadFile(a)
			os.WriteFile(a, d[:len(d)-100], 0o600)
		}},
		{"cut at a chunk boundary", func(t *testing.T, a, _ string) {
			d, _ := os.ReadFile(a)
			os.WriteFile(a, d[:sealfile.HeaderSize+sealfile.ChunkSize+sealfile.Overhead], 0o600)
		}},
		{"swapped with another instance", func(t *testing.T, a, b string) {
			da, _ := os.ReadFile(a)
			db, _ := os.ReadFile(b)
			os.WriteFile(a, db, 0o600)
			os.WriteFile(b, da, 0o600)
		}},
		{"replaced by the plain original", func(t *testing.T, a, _ string) {
			d, _ := os.ReadFile(filepath.Join(corpusDir, "files", "mr_overlay_two_windows.dcm"))
			os.WriteFile(a, d, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			// Two instances of one series (one key): only the binding
			// tells their files apart.
			a, err := c.ImportFile(filepath.Join(corpusDir, "files", "mr_overlay_two_windows.dcm"))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(filepath.Join(corpusDir, "files", "mr_overlay_two_windows.dcm"))
			other := bytes.Replace(data, []byte(a.SOPInstanceUID), []byte(a.SOPInstanceUID[:len(a.SOPInstanceUID)-1]+"9"), -1)
			b, err := c.Import(bytes.NewReader(other), "other")
			if err != nil || b.StudyInstanceUID != a.StudyInstanceUID {
				t.Fatalf("second instance: %v (study %s)", err, b.StudyInstanceUID)
			}
			tt.damage(t, a.Path, b.Path)
			// Opened and read whole (a change inside the pixel data shows
			// when they are read).
			st, err := c.OpenStored(a.SOPInstanceUID)
			if err == nil {
				_, err = st.ReadAt(make([]byte, st.Size()), 0)
				st.Close()
			}
			if !errors.Is(err, ErrFileTampered) && !errors.Is(err, ErrFileNotSealed) {
				t.Fatalf("open: got %v, want ErrFileTampered or ErrFileNotSealed", err)
			}
			if !strings.Contains(err.Error(), a.Path) {
				t.Errorf("open: %v does not name %s", err, a.Path)
			}
			probs, err := c.Verify()
			if err != nil || len(probs) == 0 || probs[0].SOPInstanceUID != a.SOPInstanceUID && probs[len(probs)-1].SOPInstanceUID != a.SOPInstanceUID {
				t.Errorf("verify: %v %v, want a problem with %s", probs, err, a.SOPInstanceUID)
			}
			// Importing the instance again compares it with the damaged
			// copy: damage, not a conflict with other bytes.
			_, err = c.ImportFile(filepath.Join(corpusDir, "files", "mr_overlay_two_windows.dcm"))
			if !errors.Is(err, ErrFileTampered) && !errors.Is(err, ErrFileNotSealed) {
				t.Errorf("import again: got %v, want ErrFileTampered or ErrFileNotSealed", err)
			}
		})
	}
}

// TestSealedRenderSamePixels: a frame rendered from the cached (sealed)
// file is the frame rendered from the original file.
func TestSealedRenderSamePixels(t *testing.T) {
	c := openTemp(t)
	for _, id := range []string{"ct_small_explicit_le", "mr_small_rle", "emri_small_jpegls_multiframe", "sc_jpeg_baseline_rgb", "image_deflate_sc"} {
		src := filepath.Join(corpusDir, "files", id+".dcm")
		res, err := c.ImportFile(src)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := viewer.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.OpenInstance(res.SOPInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := viewer.OpenFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < orig.NumFrames(); n++ {
			a, err1 := orig.Frame(n)
			b, err2 := cached.Frame(n)
			if err1 != nil || err2 != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s frame %d: cached frame differs (%v, %v)", id, n, err1, err2)
			}
		}
		orig.Close()
		cached.Close()
	}
}
