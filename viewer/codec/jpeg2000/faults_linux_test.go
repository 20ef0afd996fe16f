package jpeg2000

import (
	"runtime"
	"syscall"
	"testing"

	"teleread/viewer/codec/internal/corpus"
)

// minorFaults is how many pages the process has faulted in so far.
func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// TestDecodeSeriesFaults checks that decoding frame after frame of one size
// into recycled memory does not fault in OpenJPEG's buffers anew each time:
// a 1024x1024 frame's int32 samples are 1024 pages, which glibc mapped,
// faulted in and unmapped again on every decode while the shrunk buffer kept
// its mmap threshold below them (a quarter of the decode's CPU time).
func TestDecodeSeriesFaults(t *testing.T) {
	dir := corpus.Dir(t)
	src := corpus.FileFrame0(t, dir, "mr2_j2k_lossy_rescale")
	// The thread calling OpenJPEG allocates from its own glibc arena: keep
	// it the same, as a viewer's decoding goroutine mostly finds it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var block []byte
	alloc := func(n int) []byte {
		if len(block) < n {
			block = make([]byte, n)
		}
		return block
	}
	const warm, decodes = 3, 4
	var before int64
	for i := range warm + decodes {
		if i == warm {
			before = minorFaults(t)
		}
		if _, err := DecodeInto(src, alloc); err != nil {
			t.Fatal(err)
		}
	}
	const bufferPages = 1024 * 1024 * 4 / 4096
	per := (minorFaults(t) - before) / decodes
	t.Logf("%d pages faulted in per decode", per)
	if per > bufferPages/8 {
		t.Errorf("%d pages faulted in per decode of a 1024x1024 frame, want at most %d (OpenJPEG's buffer is %d)", per, bufferPages/8, bufferPages)
	}
}
