package app

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"teleread/app/internal/reading"
)

// dragThumb drags a thumbnail to an absolute position as the desktop driver
// does: a few Dragged events, each with the pointer's position relative to the
// thumbnail, then DragEnd.
func dragThumb(th *thumb, to fyne.Position) (overDuring *viewport) {
	from := fyne.CurrentApp().Driver().AbsolutePositionForObject(th).Add(fyne.NewPos(20, 20))
	origin := fyne.CurrentApp().Driver().AbsolutePositionForObject(th)
	prev := from
	for k := 1; k <= 4; k++ {
		p := fyne.NewPos(from.X+(to.X-from.X)*float32(k)/4, from.Y+(to.Y-from.Y)*float32(k)/4)
		th.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: p.Subtract(origin), AbsolutePosition: p},
			Dragged: fyne.NewDelta(p.X-prev.X, p.Y-prev.Y)})
		prev = p
	}
	for _, vp := range th.s.viewports {
		if vp.dropTarget {
			overDuring = vp
		}
	}
	th.DragEnd()
	return overDuring
}

func TestDragSeriesIntoViewport(t *testing.T) {
	const study = "1.2.826.0.1.3680043.10.2.1"
	h := newHarness(t)
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"axial", "TLR-DRAG-1", study, study + ".1", "20260110", "CT HEAD", steps(0, 5, 4)})
	writeSeries(t, dir, seriesSpec{"thin", "TLR-DRAG-1", study, study + ".2", "20260110", "CT HEAD", steps(0, 2.5, 7)})
	if sum := h.cache.ImportPaths([]string{dir}, nil); sum.Imported != 11 {
		t.Fatalf("import: %+v", sum)
	}
	h.reloadWorklist()
	h.openStudy(study)
	s := h.ws.viewer
	if len(s.stacks) != 2 {
		t.Fatalf("%d series, want 2", len(s.stacks))
	}
	h.key(fyne.KeyF6) // 1x2
	left, right := s.viewports[0], s.viewports[1]
	if left.st != s.stacks[0] || right.st != s.stacks[1] {
		t.Fatal("1x2 does not show the two series")
	}
	thumbs := []*thumb{}
	for _, o := range s.thumbs.Objects {
		if th, ok := o.(*thumb); ok {
			thumbs = append(thumbs, th)
		}
	}
	centre := func(v *viewport) fyne.Position {
		p := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
		return p.Add(fyne.NewPos(v.Size().Width/2, v.Size().Height/2))
	}
	tests := []struct {
		name     string
		do       func() *viewport // the viewport marked while dragging
		vp       *viewport
		want     *reading.Stack
		marked   *viewport
		activeIs *viewport
	}{
		{"first series onto the second viewport", func() *viewport { return dragThumb(thumbs[0], centre(right)) }, right, s.stacks[0], right, right},
		{"a drop outside the viewports does nothing", func() *viewport {
			return dragThumb(thumbs[1], fyne.CurrentApp().Driver().AbsolutePositionForObject(thumbs[0]).Add(fyne.NewPos(5, 5)))
		}, right, s.stacks[0], nil, right},
		{"second series onto the first viewport", func() *viewport { return dragThumb(thumbs[1], centre(left)) }, left, s.stacks[1], left, left},
		{"a tap loads into the active viewport", func() *viewport {
			s.setActive(right)
			test.Tap(thumbs[1])
			return nil
		}, right, s.stacks[1], nil, right},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marked := tc.do()
			h.settle()
			if marked != tc.marked {
				t.Errorf("marked while dragging: %p, want %p", marked, tc.marked)
			}
			if tc.vp.st != tc.want {
				t.Errorf("viewport shows series %q, want %q", tc.vp.st.Series.SeriesInstanceUID, tc.want.Series.SeriesInstanceUID)
			}
			if !tc.vp.hasLast || tc.vp.last.req.item.SOP != tc.want.Items[tc.vp.index].SOP {
				t.Errorf("viewport has not drawn the dropped series' image")
			}
			if s.active != tc.activeIs {
				t.Error("the wrong viewport is active")
			}
			for _, vp := range s.viewports {
				if vp.dropTarget {
					t.Error("a viewport stays marked after the drop")
				}
			}
		})
	}
}
