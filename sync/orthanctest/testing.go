package orthanctest

import (
	"errors"
	"os"
)

// TB is the part of testing.TB that New uses (so this package does not
// pull the testing package into the application).
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
}

// New starts a private Orthanc for the test t, in t.TempDir(), and stops it
// when the test ends. When Orthanc is not installed the test is skipped,
// except under CI=true, where it fails.
func New(t TB, opts Options) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), opts)
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("Orthanc log (%s): %s", s.LogPath(), s.LogTail())
		}
	})
	return s
}

// MustUploadFiles uploads files and fails the test on any error.
func (s *Server) MustUploadFiles(t TB, paths ...string) []Instance {
	t.Helper()
	out := make([]Instance, 0, len(paths))
	for _, p := range paths {
		inst, err := s.UploadFile(p)
		if err != nil {
			t.Fatalf("%v", err)
		}
		out = append(out, inst)
	}
	return out
}
