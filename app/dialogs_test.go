package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// TestEscClosesHelpAndTags opens help (F1) and the tag browser (T) by keys
// typed into the window, as the desktop driver delivers them, and closes each
// with Esc. The T that opened the tag browser does not land in its filter, and
// keys typed while a dialog is up do not reach the image behind it.
func TestEscClosesHelpAndTags(t *testing.T) {
	h := newHarness(t)
	var ct string
	for _, r := range h.ws.worklist.view.Rows {
		if strings.Contains(r.Modalities, "CT") {
			ct = r.UID
		}
	}
	h.openFromWorklist(ct)
	c := h.win.Canvas()
	vp := h.ws.viewer.active
	tests := []struct {
		name string
		key  fyne.KeyName
	}{
		{"help", fyne.KeyF1},
		{"tags", fyne.KeyT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.press(tc.key)
			if c.Overlays().Top() == nil {
				t.Fatalf("%s did not open a dialog", tc.key)
			}
			if tc.key == fyne.KeyT {
				f, ok := c.Focused().(*escEntry)
				if !ok {
					t.Fatalf("the tag browser's filter is not focused (%T)", c.Focused())
				}
				if f.Text != "" {
					t.Errorf("the filter holds %q after T opened the browser", f.Text)
				}
				// Typing filters; the list shows only matching lines.
				h.press(fyne.KeyM)
				if f.Text != "m" {
					t.Errorf("typed m, the filter holds %q", f.Text)
				}
			} else {
				invert := vp.invert
				h.press(fyne.KeyI)
				if vp.invert != invert {
					t.Error("I typed over the help dialog inverted the image behind it")
				}
			}
			h.press(fyne.KeyEscape)
			if top := c.Overlays().Top(); top != nil {
				t.Fatalf("Esc left the %s dialog open", tc.name)
			}
			if h.ws.modal != nil {
				t.Error("the workstation still counts a dialog as open")
			}
		})
	}
	// The viewer has the keys again.
	invert := vp.invert
	c.Focus(vp)
	h.press(fyne.KeyI)
	if vp.invert == invert {
		t.Error("after closing the dialogs, I does not reach the viewer")
	}
}
