package reading

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"teleread/internal/corpustest"
	"teleread/viewer/dataset"
)

func TestSlicePlacementFallsBackToRelativeIndex(t *testing.T) {
	// Stacks without positions (here a cine loop: every frame at one place)
	// follow by relative index.
	a := &Stack{Items: make([]Item, 10), place: &Placement{}}
	b := &Stack{Items: make([]Item, 19), place: &Placement{}}
	var l Link
	for _, tc := range []struct{ i, want int }{{0, 0}, {9, 18}, {4, 8}, {5, 10}} {
		if got := l.Follow(a, b, tc.i, true); got != tc.want {
			t.Errorf("follow(%d) = %d, want %d", tc.i, got, tc.want)
		}
	}
	// Axial and sagittal stacks are not compared by position.
	ax := &Stack{Items: make([]Item, 3), place: &Placement{Pos: []float64{0, 1, 2}, Normal: [3]float64{0, 0, 1}, OK: true}}
	sg := &Stack{Items: make([]Item, 3), place: &Placement{Pos: []float64{2, 1, 0}, Normal: [3]float64{1, 0, 0}, OK: true}}
	if got := l.Follow(ax, sg, 0, true); got != 0 {
		t.Errorf("axial to sagittal follow(0) = %d, want the relative index 0", got)
	}
	if _, ok := Alignment(ax.Placement(), sg.Placement()); ok {
		t.Error("axial and sagittal placements align")
	}
}

// BenchmarkPlaceStack reads the plane of every image of a 300-image CT stack,
// as the first linked scroll of a comparison does.
func BenchmarkPlaceStack(b *testing.B) {
	src := filepath.Join(corpustest.Dir(b), "files", "ct_small_explicit_le.dcm")
	dir := b.TempDir()
	st := &Stack{}
	for k := range 300 {
		p := filepath.Join(dir, fmt.Sprintf("%03d.dcm", k))
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		st.Items = append(st.Items, Item{Path: p, Instance: k + 1, Frames: 1})
	}
	b.ResetTimer()
	for range b.N {
		placeStack(st)
	}
}

// items makes a stack's items from "SOP/frame" names.
func items(names ...string) []Item {
	var out []Item
	for _, n := range names {
		var sop string
		var frame int
		fmt.Sscanf(n, "%1s%d", &sop, &frame)
		out = append(out, Item{SOP: sop, Frame: frame})
	}
	return out
}

// TestReplaceKeepsThePlace: a stack that grows while its study downloads
// moves each old index to where its image (instance and frame) now is.
func TestReplaceKeepsThePlace(t *testing.T) {
	tests := []struct {
		name     string
		old, new []Item
		changed  bool
		want     []int // remap of old indices 0..len(old)-1, then of len(old) (out of range)
	}{
		{"same items", items("a0", "b0"), items("a0", "b0"), false, nil},
		{"new images sort before", items("b0", "c0"), items("a0", "b0", "c0"), true, []int{1, 2, 2}},
		{"appended", items("a0", "b0"), items("a0", "b0", "c0"), true, []int{0, 1, 2}},
		{"frames of a multi-frame instance", items("a0", "a1"), items("z0", "a0", "a1"), true, []int{1, 2, 2}},
		{"an image gone keeps its index", items("a0", "b0", "c0"), items("a0", "c0"), true, []int{0, 1, 1, 1}},
		{"from empty", nil, items("a0", "b0"), true, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &Stack{Items: tt.old, place: &Placement{OK: true}}
			remap, changed := st.Replace(tt.new)
			if changed != tt.changed {
				t.Fatalf("changed = %v, want %v", changed, tt.changed)
			}
			if !changed {
				if st.place == nil {
					t.Error("an unchanged stack forgot its placement")
				}
				return
			}
			if !slices.Equal(st.Items, tt.new) {
				t.Errorf("items %v, want %v", st.Items, tt.new)
			}
			if st.place != nil {
				t.Error("a grown stack keeps the placement of its old items")
			}
			var got []int
			for i := range len(tt.old) + 1 {
				got = append(got, remap(i))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("remap %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIdentityOf reads whose image a file is from its own header, compared
// with the corpus manifest (written by pydicom).
func TestIdentityOf(t *testing.T) {
	dir, entries := corpustest.Load(t)
	for _, id := range []string{"ct_small_explicit_le", "mr_small_big_endian", "sc_jpeg_baseline_rgb"} {
		t.Run(id, func(t *testing.T) {
			e := corpustest.Lookup(t, entries, id)
			f, err := dataset.Open(e.Path(dir))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			who := IdentityOf(f)
			if who.StudyUID != e.Info.StudyInstanceUID || who.SeriesUID != e.Info.SeriesInstanceUID || who.SOP != e.Info.SOPInstanceUID {
				t.Errorf("identity %+v, want study %s, series %s, SOP %s", who, e.Info.StudyInstanceUID, e.Info.SeriesInstanceUID, e.Info.SOPInstanceUID)
			}
		})
	}
}
