package jpeg2000

import (
	"testing"

	"teleread/viewer/codec/internal/corpus"
)

// FuzzDecode checks that no input crashes the decoder or the process, and
// asserts corpus.CheckDecode on every input: typed errors, as many samples as
// the header says and none wider than its precision, the same image twice.
func FuzzDecode(f *testing.F) {
	corpus.FuzzFrame0(f, 1<<20, Decode, SIZ, tsLossless, tsLossy)
}

// BenchmarkDecode decodes frame 0 of three corpus files.
func BenchmarkDecode(b *testing.B) {
	corpus.BenchmarkFrame0(b, Decode, []string{"mr2_j2k_lossy_rescale", "us1_j2k_lossless_ybr_rct", "dx_j2k_lossless_16bit"}, tsLossless, tsLossy)
}
