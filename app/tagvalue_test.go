package app

import (
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset"
)

// TestTagBrowserEncapsulatedIcon: the tag browser lists an icon image whose
// pixel data are encapsulated inside its sequence item by its fragments, not
// as an empty value (testdata/quirks: one fragment of 388 bytes, as dcmdump
// shows it).
func TestTagBrowserEncapsulatedIcon(t *testing.T) {
	f, err := dataset.Open(filepath.Join("..", "testdata", "quirks", "icon_encapsulated_in_sequence.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := tagLines(f.DataSet, 0, nil)
	for _, l := range lines {
		if strings.Contains(l, "(7FE0,0010) OB") && strings.HasPrefix(l, "        ") {
			if !strings.Contains(l, "<encapsulated: 1 fragment, 388 bytes>") {
				t.Fatalf("icon pixel data shown as %q", l)
			}
			return
		}
	}
	t.Fatalf("no icon pixel data among\n%s", strings.Join(lines, "\n"))
}
