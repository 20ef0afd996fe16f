package reading

import (
	"os"
	"path/filepath"
	"testing"

	"teleread/internal/corpustest"
)

// TestPlacementRead: a stack's slice positions read away from its owner's
// goroutine reach the stack only through Apply, and only while the stack
// still holds the items the read began from; a stack that grew meanwhile
// keeps them unknown (read again, rather than on the owner's goroutine).
func TestPlacementRead(t *testing.T) {
	src := filepath.Join(corpustest.Dir(t), "files", "ct_small_explicit_le.dcm")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var its []Item
	for _, n := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, n+".dcm")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		its = append(its, Item{Path: p, SOP: n, Frames: 1})
	}
	tests := []struct {
		name    string
		between func(st *Stack) // what the owner does while the read runs
		applied bool
	}{
		{"nothing changed", func(*Stack) {}, true},
		{"more slices arrived", func(st *Stack) { st.Replace(append(append([]Item(nil), its...), Item{SOP: "d", Frames: 1})) }, false},
		{"same items again", func(st *Stack) { st.Replace(append([]Item(nil), its[:2]...)) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &Stack{Items: its[:2]}
			r := st.BeginPlacement()
			r.Read()
			if st.Placed() {
				t.Fatal("Read gave the stack its placement before Apply")
			}
			tt.between(st)
			if got := r.Apply(); got != tt.applied {
				t.Fatalf("Apply = %v, want %v", got, tt.applied)
			}
			if st.Placed() != tt.applied {
				t.Errorf("Placed = %v after Apply, want %v", st.Placed(), tt.applied)
			}
			if tt.applied {
				want := placeStack(&Stack{Items: its[:2]})
				if got := st.Placement(); got.OK != want.OK || len(got.Pos) != len(want.Pos) {
					t.Errorf("placement %+v, want %+v", got, want)
				}
			}
		})
	}
}
