package rle

import (
	"encoding/binary"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// rleLossless is the transfer syntax whose frames this package decodes.
const rleLossless = "1.2.840.10008.1.2.5"

// startsRLE reports whether a fragment starts like an RLE header (a segment
// count of 1-15 and a first offset of 64), for splitting fragments into frames.
func startsRLE(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	return n >= 1 && n <= 15 && binary.LittleEndian.Uint32(b[4:]) == 64
}

// decodeFrame decodes one frame with the geometry of its file's header.
func decodeFrame(src []byte, in corpus.Info) (*codec.Image, error) {
	return Decode(src, in.Rows, in.Columns, in.SamplesPerPixel, in.BitsAllocated)
}

// TestCorpus decodes every frame of every RLE Lossless corpus file and compares it with the reference decode's frame hash.
func TestCorpus(t *testing.T) {
	corpus.CheckFrames(t, startsRLE, decodeFrame, rleLossless)
}
