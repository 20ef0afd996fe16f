package reading

import (
	"fmt"
	"testing"
)

// sops writes a stack's items as SOP(frame), a placeholder with a '?'.
func sops(items []Item) string {
	s := ""
	for _, it := range items {
		s += it.SOP
		if it.Frames > 1 {
			s += fmt.Sprintf("(%d)", it.Frame)
		}
		if it.Missing {
			s += "?"
		}
		s += " "
	}
	return s
}

func TestWithMissing(t *testing.T) {
	cached := func(sop string, n int) Item { return Item{SOP: sop, Instance: n, Frames: 1, Path: sop + ".dcm"} }
	frame := func(sop string, n, f, frames int) Item {
		return Item{SOP: sop, Instance: n, Frame: f, Frames: frames, Path: sop + ".dcm"}
	}
	for _, tc := range []struct {
		name   string
		items  []Item
		listed []Listed
		want   string
	}{
		{"nothing listed", []Item{cached("b", 2)}, nil, "b "},
		{"all cached", []Item{cached("a", 1), cached("b", 2)}, []Listed{{"b", 2}, {"a", 1}}, "a b "},
		{"gaps by instance number", []Item{cached("c", 3), cached("e", 5)},
			[]Listed{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}, {"f", 6}}, "a? b? c d? e f? "},
		{"equal numbers sort by UID", []Item{cached("1.2", 0)}, []Listed{{"1.3", 0}, {"1.1", 0}}, "1.1? 1.2 1.3? "},
		{"frames of an instance stay together", []Item{frame("m", 2, 0, 2), frame("m", 2, 1, 2)},
			[]Listed{{"a", 1}, {"m", 2}, {"z", 3}}, "a? m(0) m(1) z? "},
		{"listed twice", nil, []Listed{{"a", 1}, {"a", 1}}, "a? "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sops(WithMissing(tc.items, tc.listed)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestArrivalKeepsThePlace: a placeholder the reader is on is replaced by
// its instance at the same index.
func TestArrivalKeepsThePlace(t *testing.T) {
	listed := []Listed{{"a", 1}, {"b", 2}, {"c", 3}}
	st := &Stack{Items: WithMissing([]Item{{SOP: "a", Instance: 1, Frames: 1, Path: "a"}}, listed)}
	if n := st.CountMissing(); n != 2 {
		t.Fatalf("%d placeholders, want 2", n)
	}
	remap, changed := st.Replace(WithMissing([]Item{{SOP: "a", Instance: 1, Frames: 1, Path: "a"}, {SOP: "c", Instance: 3, Frames: 1, Path: "c"}}, listed))
	if !changed || remap(2) != 2 || st.Items[2].Missing || st.CountMissing() != 1 {
		t.Errorf("after c arrived: changed %v, index 2 now %d, %q", changed, remap(2), sops(st.Items))
	}
}
