package jpeg

import (
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// FuzzDecode checks that no input crashes the decoder or the process, and
// asserts corpus.CheckDecode on every input: typed errors, as many samples as
// the header says and none wider than its precision, the same image twice.
func FuzzDecode(f *testing.F) {
	corpus.FuzzFrame0(f, 1<<20, Decode, codec.JPEGHeader, tsBaseline, tsExtended)
}

// BenchmarkDecode decodes frame 0 of three corpus files.
func BenchmarkDecode(b *testing.B) {
	corpus.BenchmarkFrame0(b, Decode, []string{"xa_cine_jpeg_baseline", "us_cine_jpeg_ybr422_30f", "mr1_jpeg_extended_wg04"}, tsBaseline, tsExtended)
}
