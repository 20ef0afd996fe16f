package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestStatusBarShowsTheLink: the status bar names the link estimate and the
// syntax asked for beside the archive, and nothing of it without an archive.
func TestStatusBarShowsTheLink(t *testing.T) {
	test.NewTempApp(t)
	const link = "48 Mbit/s, round trip 31 ms, JPEG-LS lossless"
	for _, tc := range []struct {
		name string
		ev   StatusEvent
		want string
	}{
		{"online", StatusEvent{Online: true, Archive: "https://pacs.example/dicom-web", Link: link}, link},
		{"offline keeps the last estimate", StatusEvent{Archive: "https://pacs.example/dicom-web", Link: link}, link},
		{"no archive", StatusEvent{Link: link}, ""},
		{"not connected yet", StatusEvent{Archive: "https://pacs.example/dicom-web"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStatusBar(RendererInfo{}, &Metrics{})
			s.update(tc.ev)
			got := s.link.Text
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("link label %q, want %q", got, tc.want)
			}
		})
	}
}
