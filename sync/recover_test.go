package sync

import (
	"errors"
	"strings"
	"testing"
)

// TestGuardTurnsPanicIntoError: a panic on a retrieve or staging goroutine
// becomes the study's error instead of ending the process.
func TestGuardTurnsPanicIntoError(t *testing.T) {
	err := guard("retrieve study 1.2.3", func() error { panic("makeslice: len out of range") })
	if err == nil || !strings.Contains(err.Error(), "retrieve study 1.2.3") || !strings.Contains(err.Error(), "makeslice") {
		t.Errorf("got %v, want the panic named with its work", err)
	}
	want := errors.New("plain")
	if err := guard("x", func() error { return want }); err != want {
		t.Errorf("got %v, want the function's own error", err)
	}
}
