package rle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// corpusDir is the shared corpus of real DICOM files with reference decodes made
// by GDCM/pydicom (see its README.md).
const corpusDir = "../../../../shared/corpus"

// rleLossless is the transfer syntax whose frames this package decodes.
const rleLossless = "1.2.840.10008.1.2.5"

type manifestEntry struct {
	ID     string   `json:"id"`
	File   string   `json:"file"`
	Tags   []string `json:"tags"`
	Broken bool     `json:"broken"`
	DICOM  struct {
		TransferSyntaxUID string `json:"transfer_syntax_uid"`
	} `json:"dicom"`
	Expectation struct {
		StoredValues string `json:"stored_values"`
	} `json:"expectation"`
	Reference struct {
		Status      string   `json:"status"`
		Dtype       string   `json:"dtype"`
		FrameSHA256 []string `json:"frame_sha256"`
	} `json:"reference"`
}

// requireTool fails under CI and skips elsewhere when something the test needs
// is missing.
func requireTool(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func loadManifest(t testing.TB) []manifestEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.json"))
	if err != nil {
		requireTool(t, "corpus missing: %v", err)
	}
	var m struct {
		Files []manifestEntry `json:"files"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Files
}

// pixelInfo is what the tests need from the DICOM header.
type pixelInfo struct {
	rows, cols, spp, bitsAllocated, bitsStored, pixelRep, frames int
}

// readFrames returns the code stream of every frame of an encapsulated file:
// by the Basic Offset Table when there is one, one fragment per frame when the
// counts agree, all fragments for a single frame, and otherwise a new frame at
// each fragment that starts like an RLE header (a segment count of 1-15 and a
// first offset of 64).
func readFrames(t testing.TB, path string) ([][]byte, pixelInfo) {
	t.Helper()
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	var pi pixelInfo
	pi.rows, _ = f.Int(dataset.Rows)
	pi.cols, _ = f.Int(dataset.Columns)
	pi.spp, _ = f.Int(dataset.SamplesPerPixel)
	pi.bitsAllocated, _ = f.Int(dataset.BitsAllocated)
	pi.bitsStored, _ = f.Int(dataset.BitsStored)
	pi.pixelRep, _ = f.Int(dataset.PixelRepresentation)
	if pi.frames, err = f.NumberOfFrames(); err != nil {
		t.Fatalf("frames: %v", err)
	}
	if f.Pixel == nil || !f.Pixel.Encapsulated {
		t.Fatalf("no encapsulated pixel data")
	}
	var frags [][]byte
	for _, fr := range f.Pixel.Fragments {
		b, err := f.ReadPixelRange(fr.Offset, fr.Length)
		if err != nil {
			t.Fatalf("fragment: %v", err)
		}
		frags = append(frags, b)
	}
	var frames [][]byte
	switch {
	case len(f.Pixel.OffsetTable) == pi.frames && pi.frames > 1:
		for i := range pi.frames {
			var fb []byte
			for j, off := range f.Pixel.FragmentItemOffsets {
				start := int64(f.Pixel.OffsetTable[i])
				end := int64(1) << 62
				if i+1 < pi.frames {
					end = int64(f.Pixel.OffsetTable[i+1])
				}
				if off >= start && off < end {
					fb = append(fb, frags[j]...)
				}
			}
			frames = append(frames, fb)
		}
	case len(frags) == pi.frames:
		frames = frags
	case pi.frames == 1:
		frames = [][]byte{bytes.Join(frags, nil)}
	default:
		for _, fb := range frags {
			if looksLikeHeader(fb) || len(frames) == 0 {
				frames = append(frames, nil)
			}
			frames[len(frames)-1] = append(frames[len(frames)-1], fb...)
		}
	}
	if len(frames) != pi.frames {
		t.Fatalf("found %d frames, header says %d", len(frames), pi.frames)
	}
	return frames, pi
}

func looksLikeHeader(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	return n >= 1 && n <= 15 && binary.LittleEndian.Uint32(b[4:]) == 64
}

// referenceBytes lays out a decoded frame as the corpus references do: each
// sample masked to Bits Stored, sign-extended when Pixel Representation is 1,
// little-endian in the reference dtype.
func referenceBytes(img *codec.Image, pi pixelInfo, dtype string) ([]byte, error) {
	n := img.Width * img.Height * img.Components
	get := func(i int) uint32 {
		switch {
		case img.U8 != nil:
			return uint32(img.U8[i])
		case img.U16 != nil:
			return uint32(img.U16[i])
		}
		return img.U32[i]
	}
	bs := pi.bitsStored
	mask := uint32(1)<<bs - 1
	if bs >= 32 {
		mask = ^uint32(0)
	}
	var out []byte
	for i := range n {
		v := get(i) & mask
		if pi.pixelRep == 1 && bs < 32 && v&(1<<(bs-1)) != 0 {
			v |= ^mask
		}
		switch dtype {
		case "|u1", "|i1":
			out = append(out, uint8(v))
		case "<u2", "<i2":
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case "<u4", "<i4":
			out = binary.LittleEndian.AppendUint32(out, v)
		default:
			return nil, fmt.Errorf("reference dtype %q", dtype)
		}
	}
	return out, nil
}

// TestCorpus decodes every frame of every RLE Lossless corpus file and compares it with the reference decode's frame hash.
func TestCorpus(t *testing.T) {
	n := 0
	for _, e := range loadManifest(t) {
		if e.DICOM.TransferSyntaxUID != rleLossless {
			continue
		}
		n++
		t.Run(e.ID, func(t *testing.T) {
			frames, pi := readFrames(t, filepath.Join(corpusDir, e.File))
			for i, fb := range frames {
				img, err := Decode(fb, pi.rows, pi.cols, pi.spp, pi.bitsAllocated)
				if e.Expectation.StoredValues != "exact" {
					// Broken or undecodable: any result but a panic or hang.
					t.Logf("frame %d: %v", i, err)
					continue
				}
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if img.Width != pi.cols || img.Height != pi.rows || img.Components != pi.spp {
					t.Fatalf("frame %d: %dx%dx%d, header says %dx%dx%d", i,
						img.Width, img.Height, img.Components, pi.cols, pi.rows, pi.spp)
				}
				b, err := referenceBytes(img, pi, e.Reference.Dtype)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if got := hex.EncodeToString(sum[:]); got != e.Reference.FrameSHA256[i] {
					name := filepath.Join(t.TempDir(), fmt.Sprintf("%s.frame%d.raw", e.ID, i))
					os.WriteFile(name, b, 0o644)
					t.Errorf("frame %d: sha256 %s, reference %s (decoded bytes in %s)", i, got, e.Reference.FrameSHA256[i], name)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no RLE files in the corpus")
	}
}
