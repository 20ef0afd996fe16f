package jpeg2000

import (
	"bytes"
	"sync/atomic"
	"testing"

	"teleread/viewer/codec"
	"teleread/viewer/codec/internal/corpus"
)

// FuzzDecode checks that no input crashes the decoder or the process, and
// asserts corpus.CheckDecode on every input: typed errors, as many samples as
// the header says and none wider than its precision, the same image twice.
// The samples go to memory holding a new pattern on each decode, as recycled
// frames do, so that a sample left unwritten makes the two decodes differ.
func FuzzDecode(f *testing.F) {
	corpus.FuzzFrame0(f, 1<<20, decodeDirty, SIZ, tsLossless, tsLossy)
}

var dirtyFill atomic.Uint32

// decodeDirty is DecodeInto with memory that holds a pattern of its own.
func decodeDirty(src []byte) (*codec.Image, error) {
	fill := byte(0x55 * dirtyFill.Add(1))
	return DecodeInto(src, func(n int) []byte { return bytes.Repeat([]byte{fill | 1}, n) })
}

// BenchmarkDecode decodes frame 0 of three corpus files.
func BenchmarkDecode(b *testing.B) {
	corpus.BenchmarkFrame0(b, Decode, []string{"mr2_j2k_lossy_rescale", "us1_j2k_lossless_ybr_rct", "dx_j2k_lossless_16bit"}, tsLossless, tsLossy)
}
