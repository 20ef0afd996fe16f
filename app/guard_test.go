package app

import (
	"bytes"
	"image"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"teleread/app/internal/reading"
)

// TestThumbnailPanicShownNotFatal: the thumbnail goroutine reads files; a
// panic there (a hostile file the checks missed) used to end the process. It
// must reach the status bar and the log as an error, and the workstation goes
// on.
func TestThumbnailPanicShownNotFatal(t *testing.T) {
	var logged bytes.Buffer
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	old := thumbRender
	thumbRender = func(*reading.Stack) image.Image { panic("makeslice: len out of range") }
	t.Cleanup(func() { thumbRender = old })

	h := newHarness(t)
	h.openStudyWith("")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.ws.status.message.Text, "internal error") && time.Now().Before(deadline) {
		h.q.runPending()
		time.Sleep(time.Millisecond)
	}
	if msg := h.ws.status.message.Text; !strings.Contains(msg, "thumbnail of series") || !strings.Contains(msg, "makeslice: len out of range") {
		t.Errorf("status bar says %q, want the thumbnail's internal error", msg)
	}
	if !strings.Contains(logged.String(), "makeslice: len out of range") {
		t.Errorf("log has %q, want the panic and its stack", logged.String())
	}
	// Still reading: the viewport draws.
	h.key(fyne.KeyDown)
	h.settle()
}
