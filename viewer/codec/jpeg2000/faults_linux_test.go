package jpeg2000

import (
	"os"
	"os/exec"
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

// faultsChild names the corpus file a child process of
// TestDecodeSeriesFaults decodes.
const faultsChild = "TELEREAD_J2K_FAULTS_CHILD"

// TestDecodeSeriesFaults checks that decoding frame after frame of one size
// into recycled memory does not fault in OpenJPEG's int32 buffers anew each
// time, which glibc mapped, faulted in and unmapped again on every decode
// while the shrunk buffers kept its mmap threshold below them (a quarter of
// the decode's CPU time). Each file is decoded in a process of its own: what
// earlier decodes left in glibc's state must not hide the faults.
func TestDecodeSeriesFaults(t *testing.T) {
	tests := []struct {
		id      string
		samples int // OpenJPEG holds each in 4 bytes
	}{
		{"mr2_j2k_lossy_rescale", 1024 * 1024},
		{"us1_j2k_lossless_ybr_rct", 640 * 480 * 3}, // three buffers
	}
	child := os.Getenv(faultsChild)
	for _, tt := range tests {
		if child != "" && child != tt.id {
			continue
		}
		t.Run(tt.id, func(t *testing.T) {
			if child == "" {
				cmd := exec.Command(os.Args[0], "-test.run=^TestDecodeSeriesFaults$", "-test.v")
				cmd.Env = append(os.Environ(), faultsChild+"="+tt.id)
				out, err := cmd.CombinedOutput()
				t.Logf("%s", out)
				if err != nil {
					t.Errorf("decoding %s in a child process: %v", tt.id, err)
				}
				return
			}
			src := corpus.FileFrame0(t, corpus.Dir(t), tt.id)
			// The thread calling OpenJPEG allocates from its own glibc
			// arena: keep it the same, as a viewer's decoding goroutine
			// mostly finds it.
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
			pages := int64(tt.samples * 4 / 4096)
			per := (minorFaults(t) - before) / decodes
			t.Logf("%d pages faulted in per decode", per)
			if per > pages/8 {
				t.Errorf("%d pages faulted in per decode, want at most %d (OpenJPEG's buffers are %d)", per, pages/8, pages)
			}
		})
	}
}
