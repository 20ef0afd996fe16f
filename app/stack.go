package app

import (
	"teleread/cache"
)

// stackItem is one image of a stack: a frame of a stored instance.
type stackItem struct {
	Path     string
	SOP      string
	Instance int // Instance Number
	Frame    int // 0-based frame of the instance
	Frames   int // frames of the instance
}

// stack is a series laid out as the images a reader scrolls through: every frame of
// every instance, in instance order.
type stack struct {
	Series cache.Series
	Items  []stackItem
	place  *placement // read the first time a link asks (placement)
}

// maxStackItems bounds a stack so that a header claiming millions of frames cannot
// make the viewer allocate millions of items.
const maxStackItems = 1 << 16

func newStack(s cache.Series, instances []cache.Instance) *stack {
	st := &stack{Series: s}
	for _, in := range instances {
		frames := max(1, in.Frames)
		for f := 0; f < frames && len(st.Items) < maxStackItems; f++ {
			st.Items = append(st.Items, stackItem{Path: in.Path, SOP: in.SOPInstanceUID, Instance: in.InstanceNumber, Frame: f, Frames: frames})
		}
	}
	return st
}

// instanceRange returns the first and last item index of the instance holding item i.
func (s *stack) instanceRange(i int) (first, last int) {
	if i < 0 || i >= len(s.Items) {
		return 0, 0
	}
	it := s.Items[i]
	return i - it.Frame, i - it.Frame + it.Frames - 1
}

// imageSeries reports whether a series holds images the viewer shows (not
// reports, presentation states or other non-image objects).
func imageSeries(s cache.Series) bool {
	switch s.Modality {
	case "SR", "PR", "KO", "RTPLAN", "RTSTRUCT", "DOC":
		return false
	}
	return true
}
