package corpus

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/dataset"
)

// Info is what the codec tests read from a file's header.
type Info struct {
	Rows, Columns, SamplesPerPixel int
	BitsAllocated, BitsStored      int
	PixelRepresentation, Frames    int
	PlanarConfiguration            int
}

func open(tb testing.TB, path string) (*dataset.File, Info) {
	tb.Helper()
	f, err := dataset.Open(path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	var in Info
	in.Rows, _ = f.Int(dataset.Rows)
	in.Columns, _ = f.Int(dataset.Columns)
	in.SamplesPerPixel, _ = f.Int(dataset.SamplesPerPixel)
	in.BitsAllocated, _ = f.Int(dataset.BitsAllocated)
	in.BitsStored, _ = f.Int(dataset.BitsStored)
	in.PixelRepresentation, _ = f.Int(dataset.PixelRepresentation)
	in.PlanarConfiguration, _ = f.Int(dataset.PlanarConfiguration)
	if in.Frames, err = f.NumberOfFrames(); err != nil {
		f.Close()
		tb.Fatalf("frames: %v", err)
	}
	if f.Pixel == nil {
		f.Close()
		tb.Fatalf("%s: no Pixel Data", path)
	}
	return f, in
}

// StartsJPEG reports whether a fragment begins a JPEG code stream (SOI).
func StartsJPEG(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8}) }

// Frames returns the code stream of every frame of the encapsulated file at
// path, with its header: by the Basic Offset Table when it has an entry per
// frame, one fragment per frame when the counts agree, all fragments for a
// single frame, and otherwise a new frame at each fragment for which starts
// is true. It fails the test when the frames found do not match Number of
// Frames.
func Frames(tb testing.TB, path string, starts func([]byte) bool) ([][]byte, Info) {
	tb.Helper()
	f, in := open(tb, path)
	defer f.Close()
	px := f.Pixel
	if !px.Encapsulated {
		tb.Fatalf("no encapsulated pixel data")
	}
	var frags [][]byte
	for _, fr := range px.Fragments {
		b, err := f.ReadPixelRange(fr.Offset, fr.Length)
		if err != nil {
			tb.Fatalf("fragment: %v", err)
		}
		frags = append(frags, b)
	}
	var frames [][]byte
	switch {
	case len(px.OffsetTable) == in.Frames && in.Frames > 1:
		for i := range in.Frames {
			start, end := int64(px.OffsetTable[i]), int64(1)<<62
			if i+1 < in.Frames {
				end = int64(px.OffsetTable[i+1])
			}
			var fb []byte
			for j, off := range px.FragmentItemOffsets {
				if off >= start && off < end {
					fb = append(fb, frags[j]...)
				}
			}
			frames = append(frames, fb)
		}
	case len(frags) == in.Frames:
		frames = frags
	case in.Frames == 1:
		frames = [][]byte{bytes.Join(frags, nil)}
	default:
		for _, fb := range frags {
			if starts(fb) || len(frames) == 0 {
				frames = append(frames, nil)
			}
			frames[len(frames)-1] = append(frames[len(frames)-1], fb...)
		}
	}
	if len(frames) != in.Frames {
		tb.Fatalf("found %d frames, header says %d", len(frames), in.Frames)
	}
	return frames, in
}

// NativeFrames reads every frame of an uncompressed little-endian file as
// interleaved unsigned samples (Planar Configuration 1 is reordered), not
// masked to Bits Stored.
func NativeFrames(tb testing.TB, path string) ([][]uint32, Info) {
	tb.Helper()
	f, in := open(tb, path)
	defer f.Close()
	if f.Pixel.Encapsulated {
		tb.Fatalf("%s: encapsulated Pixel Data", path)
	}
	bps := in.BitsAllocated / 8
	if bps != 1 && bps != 2 && bps != 4 {
		tb.Fatalf("%s: %d bits allocated", path, in.BitsAllocated)
	}
	pixels := in.Rows * in.Columns
	n := pixels * in.SamplesPerPixel
	raw, err := f.ReadPixelRange(f.Pixel.Offset, int64(n*bps*in.Frames))
	if err != nil {
		tb.Fatal(err)
	}
	var frames [][]uint32
	for fr := range in.Frames {
		b := raw[fr*n*bps:]
		out := make([]uint32, n)
		for i := range out {
			var v uint32
			switch bps {
			case 1:
				v = uint32(b[i])
			case 2:
				v = uint32(binary.LittleEndian.Uint16(b[2*i:]))
			case 4:
				v = binary.LittleEndian.Uint32(b[4*i:])
			}
			j := i
			if in.PlanarConfiguration == 1 { // sample s of pixel p sits at s*pixels+p
				j = (i%pixels)*in.SamplesPerPixel + i/pixels
			}
			out[j] = v
		}
		frames = append(frames, out)
	}
	return frames, in
}

// Samples returns the decoded samples as unsigned bit patterns.
func Samples(img *codec.Image) []uint32 {
	out := make([]uint32, 0, len(img.U8)+len(img.U16)+len(img.U32))
	for _, v := range img.U8 {
		out = append(out, uint32(v))
	}
	for _, v := range img.U16 {
		out = append(out, uint32(v))
	}
	return append(out, img.U32...)
}

// ReferenceBytes lays out a decoded frame as the corpus references do: each
// sample masked to Bits Stored, sign-extended when Pixel Representation is 1,
// little-endian in the reference dtype.
func ReferenceBytes(img *codec.Image, in Info, dtype string) ([]byte, error) {
	bs := in.BitsStored
	mask := uint32(1)<<bs - 1
	if bs >= 32 {
		mask = ^uint32(0)
	}
	var out []byte
	for _, v := range Samples(img) {
		v &= mask
		if in.PixelRepresentation == 1 && bs < 32 && v&(1<<(bs-1)) != 0 {
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

// Decoder decodes one frame's code stream; in is the file's header, for the
// codecs whose code streams do not carry the image geometry.
type Decoder func(src []byte, in Info) (*codec.Image, error)

// CheckFrames decodes every frame of every corpus file in the transfer
// syntaxes uids (frames split by Frames with starts) and compares each with
// the reference decode's frame hash: the size against the header, then the
// SHA-256 of the stored values in the reference dtype. Files whose stored
// values are not "exact" (broken or undecodable) need only come back without
// a panic or hang. It fails when the corpus has no file in uids.
func CheckFrames(t *testing.T, starts func([]byte) bool, decode Decoder, uids ...string) {
	t.Helper()
	dir, entries := Listed(t, uids...)
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			frames, in := Frames(t, filepath.Join(dir, e.File), starts)
			exact := e.Expectation.StoredValues == "exact"
			if exact && len(e.Reference.FrameSHA256) != len(frames) {
				t.Fatalf("%d frames, %d reference hashes", len(frames), len(e.Reference.FrameSHA256))
			}
			for i, fb := range frames {
				img, err := decode(fb, in)
				if !exact {
					// Broken or undecodable: any result but a panic or hang.
					t.Logf("frame %d: %v", i, err)
					continue
				}
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if img.Width != in.Columns || img.Height != in.Rows || img.Components != in.SamplesPerPixel {
					t.Fatalf("frame %d: %dx%dx%d, header says %dx%dx%d", i,
						img.Width, img.Height, img.Components, in.Columns, in.Rows, in.SamplesPerPixel)
				}
				b, err := ReferenceBytes(img, in, e.Reference.Dtype)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if got := hex.EncodeToString(sum[:]); got != e.Reference.FrameSHA256[i] {
					name := filepath.Join(os.TempDir(), fmt.Sprintf("teleread-codec-%s.frame%d.raw", e.ID, i))
					if err := os.WriteFile(name, b, 0o644); err != nil {
						name = err.Error()
					}
					t.Errorf("frame %d: sha256 %s, reference %s (decoded bytes in %s)", i, got, e.Reference.FrameSHA256[i], name)
				}
			}
		})
	}
}

// Stream is the code streams of one corpus file's frames, with its header.
type Stream struct {
	Frames [][]byte
	Info
}

// Streams returns the frames (split by Frames with starts) of the corpus
// files in the transfer syntaxes uids that have a reference decode, keyed by
// file id.
func Streams(tb testing.TB, starts func([]byte) bool, uids ...string) map[string]Stream {
	tb.Helper()
	dir := Dir(tb)
	out := map[string]Stream{}
	for _, e := range Entries(tb, dir, uids...) {
		if e.Reference.Status == "ok" {
			frames, in := Frames(tb, filepath.Join(dir, e.File), starts)
			out[e.ID] = Stream{frames, in}
		}
	}
	return out
}
