package reading

import (
	"cmp"
	"slices"
)

// Listed is an instance of a series as the archive lists it.
type Listed struct {
	SOP      string
	Instance int // Instance Number; 0 when the archive gave none
}

// WithMissing returns the items of a series the cache holds with a
// placeholder (Item.Missing) for every listed instance it does not hold, in
// the order the cache lists a series (Instance Number, then SOP Instance
// UID), so that the reader scrolls through the whole series and a slice
// keeps its place when it arrives. items is not changed; placeholders beyond
// MaxItems are dropped.
func WithMissing(items []Item, listed []Listed) []Item {
	have := make(map[string]bool, len(items))
	for _, it := range items {
		have[it.SOP] = true
	}
	out := slices.Clone(items)
	for _, l := range listed {
		if have[l.SOP] || len(out) >= MaxItems {
			continue
		}
		have[l.SOP] = true
		out = append(out, Item{SOP: l.SOP, Instance: l.Instance, Frames: 1, Missing: true})
	}
	if len(out) == len(items) {
		return out
	}
	// Stable: the frames of an instance share its key and keep their order.
	slices.SortStableFunc(out, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.Instance, b.Instance), cmp.Compare(a.SOP, b.SOP))
	})
	return out
}

// CountMissing returns how many items of the stack are placeholders.
func (s *Stack) CountMissing() int {
	n := 0
	for _, it := range s.Items {
		if it.Missing {
			n++
		}
	}
	return n
}
