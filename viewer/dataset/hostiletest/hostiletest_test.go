package hostiletest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "write the crafted files to testdata/hostile")

// dir is where the small crafted files are kept.
var dir = filepath.Join("..", "..", "..", "testdata", "hostile")

// TestFilesMatch keeps testdata/hostile and the builders in step: every kept
// file is exactly what Files makes, so the README's account of how each was
// made stays true.
func TestFilesMatch(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Files() {
		if !bytes.Contains(readme, []byte("`"+c.Name+"`")) {
			t.Errorf("README.md does not say how %s was made", c.Name)
		}
		p := filepath.Join(dir, c.Name)
		if *update {
			if err := os.WriteFile(p, c.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, c.Data) {
			t.Errorf("%s differs from what Files makes (go test -update rewrites it)", c.Name)
		}
	}
}
