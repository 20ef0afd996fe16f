package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/worklist"
)

// walkObjects calls fn for every object under o, widgets' parts included.
func walkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walkObjects(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walkObjects(c, fn)
		}
	}
}

// TestWorklistCellsStayInTheirColumn lists a study whose description and
// patient name are far wider than their columns: every cell's text fits its
// cell, the long ones ending in an ellipsis, so that none is drawn over the
// next column.
func TestWorklistCellsStayInTheirColumn(t *testing.T) {
	const uid = "1.2.826.0.1.3680043.10.5.1"
	long := "CT CHEST ABDOMEN PELVIS WITH CONTRAST ARTERIAL AND PORTAL VENOUS PHASES FOLLOW-UP OF KNOWN LESIONS"
	h := newHarness(t)
	dir := t.TempDir()
	writeSeries(t, dir, seriesSpec{"long", "TLR-LONG-ID-0123456789-ABCDEFGHIJ", uid, uid + ".1", "20260110", long, steps(0, 5, 1)})
	if sum := h.cache.ImportPaths([]string{dir}, nil); sum.Imported != 1 {
		t.Fatalf("import: %+v", sum)
	}
	h.reloadWorklist()
	row := h.ws.worklist.view.IndexOf(uid)
	h.ws.worklist.table.ScrollTo(widget.TableCellID{Row: row, Col: worklist.ColDescription})
	h.q.runPending()
	var cells []*worklistCell
	walkObjects(h.ws.worklist.table, func(o fyne.CanvasObject) {
		if c, ok := o.(*worklistCell); ok && c.Visible() && c.id.Row < len(h.ws.worklist.view.Rows) {
			cells = append(cells, c)
		}
	})
	if len(cells) == 0 {
		t.Fatal("no worklist cells on screen")
	}
	shortened := map[int]bool{}
	for _, c := range cells {
		room := c.Size().Width - cellPadLeft
		if w := c.text.MinSize().Width; w > room+0.5 {
			t.Errorf("row %d column %s: text %q is %.0f wide in a %.0f cell", c.id.Row, worklist.ColumnTitles[c.id.Col], c.text.Text, w, c.Size().Width)
		}
		if c.id.Row == row && c.full != c.text.Text {
			if !strings.HasSuffix(c.text.Text, "…") || !strings.HasPrefix(c.full, strings.TrimSuffix(c.text.Text, "…")) {
				t.Errorf("column %s: %q shortened to %q", worklist.ColumnTitles[c.id.Col], c.full, c.text.Text)
			}
			shortened[c.id.Col] = true
		}
	}
	if !shortened[worklist.ColDescription] || !shortened[worklist.ColID] {
		t.Errorf("the long description and ID were not shortened (shortened columns %v)", shortened)
	}
}
