package ljpeg

import (
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// transferSyntaxes are the ones whose code streams this package decodes.
var transferSyntaxes = []string{
	"1.2.840.10008.1.2.4.57",
	"1.2.840.10008.1.2.4.70",
}

// TestCorpus decodes every frame of every corpus file in a JPEG lossless
// transfer syntax and compares it with the reference decode's frame hash.
func TestCorpus(t *testing.T) {
	corpus.CheckFrames(t, corpus.StartsJPEG, func(src []byte, _ corpus.Info) (*codec.Image, error) {
		return Decode(src)
	}, transferSyntaxes...)
}
