package app

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/worklist"
	tsync "teleread/sync"
)

// worklistScreen is the table of studies with its filter.
type worklistScreen struct {
	view     worklist.View
	table    *worklistTable
	filter   *widget.Entry
	count    *widget.Label
	selected string           // UID of the selected study, kept across refreshes
	target   tsync.Turnaround // the reader's targets: due times and overdue marks
	now      func() time.Time
	open     func(uid string)
	content  fyne.CanvasObject
}

func newWorklistScreen(target tsync.Turnaround, now func() time.Time, open func(uid string)) *worklistScreen {
	s := &worklistScreen{target: target, now: now, open: open}
	s.view.SortCol = -1
	s.table = newWorklistTable(s)
	s.filter = widget.NewEntry()
	s.filter.SetPlaceHolder("Filter: name, ID, description, modality, accession…")
	s.filter.OnChanged = func(text string) {
		s.view.Filter = text
		s.refreshView()
	}
	s.count = widget.NewLabel("")
	title := canvas.NewText("Worklist", theme.Color(theme.ColorNameForeground))
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.TextSize = 16
	top := container.NewBorder(nil, nil, container.NewHBox(title, s.count), nil, s.filter)
	s.content = container.NewBorder(top, nil, nil, nil, s.table)
	return s
}

// setTurnaround takes new turnaround targets: due times and overdue marks
// follow at once.
func (s *worklistScreen) setTurnaround(t tsync.Turnaround) {
	if t == s.target {
		return
	}
	s.target = t
	s.table.Refresh()
}

// setRows replaces the studies shown. The selection stays on the same study and
// nothing takes the keyboard focus: new arrivals never interrupt a reading.
func (s *worklistScreen) setRows(rows []worklist.Row) {
	s.view.Set(rows)
	s.refreshView()
}

// setProgress shows a download's progress without reading the worklist again.
// It reports whether the study's first instances arrived (the row is not
// cached yet: the worklist must be read again for it to open).
func (s *worklistScreen) setProgress(uid string, p Progress) (arrived bool) {
	found := false
	for _, rows := range [][]worklist.Row{s.view.All, s.view.Rows} {
		for i := range rows {
			if rows[i].UID == uid && (rows[i].State == "downloading" || rows[i].Incomplete) {
				rows[i].Done, rows[i].Total = p.Done, p.Total
				found = true
				arrived = arrived || (!rows[i].Cached && p.Done > 0)
			}
		}
	}
	if found {
		s.table.Refresh()
	}
	return arrived
}

func (s *worklistScreen) refreshView() {
	s.view.Apply()
	s.count.SetText(countText(len(s.view.Rows), len(s.view.All)))
	s.table.Refresh()
	if i := s.view.IndexOf(s.selected); i >= 0 {
		s.table.selecting = true
		s.table.Select(widget.TableCellID{Row: i, Col: 0})
		s.table.selecting = false
	}
}

func countText(shown, all int) string {
	if shown == all {
		return plural(all, "study", "studies")
	}
	return plural(shown, "study", "studies") + " of " + itoa(all)
}

// sortBy sorts by a column; a second click on the same column reverses it.
func (s *worklistScreen) sortBy(col int) {
	if s.view.SortCol == col {
		s.view.Desc = !s.view.Desc
	} else {
		s.view.SortCol, s.view.Desc = col, false
	}
	s.refreshView()
}

// selectRow selects row i of the shown rows.
func (s *worklistScreen) selectRow(i int) {
	if i < 0 || i >= len(s.view.Rows) {
		return
	}
	s.selected = s.view.Rows[i].UID
	s.table.Select(widget.TableCellID{Row: i, Col: 0})
}

// openSelected opens the selected study.
func (s *worklistScreen) openSelected() {
	if i := s.view.IndexOf(s.selected); i >= 0 && s.view.Rows[i].Cached && s.open != nil {
		s.open(s.selected)
	}
}

// worklistTable is a Table that opens the selected study on Enter.
type worklistTable struct {
	widget.Table
	s         *worklistScreen
	selecting bool
}

func newWorklistTable(s *worklistScreen) *worklistTable {
	t := &worklistTable{s: s}
	t.Length = func() (int, int) { return len(s.view.Rows), worklist.NumColumns }
	t.CreateCell = func() fyne.CanvasObject { return newWorklistCell(s) }
	t.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*worklistCell).update(id) }
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		title := worklist.ColumnTitles[id.Col]
		if s.view.SortCol == id.Col {
			if s.view.Desc {
				title += " ▼"
			} else {
				title += " ▲"
			}
		}
		b.SetText(title)
		col := id.Col
		b.OnTapped = func() { s.sortBy(col) }
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(s.view.Rows) {
			s.selected = s.view.Rows[id.Row].UID
		}
	}
	t.ExtendBaseWidget(t)
	for i, w := range worklist.ColumnWidths {
		t.SetColumnWidth(i, w)
	}
	return t
}

// TypedKey opens the selected study on Enter and moves the selection with the
// arrow keys; other keys go to the table.
func (t *worklistTable) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		t.s.openSelected()
	case fyne.KeyDown:
		t.s.selectRow(t.s.view.IndexOf(t.s.selected) + 1)
	case fyne.KeyUp:
		t.s.selectRow(max(0, t.s.view.IndexOf(t.s.selected)-1))
	default:
		t.Table.TypedKey(ev)
	}
}

// worklistCell is one table cell: text on a background that marks STAT studies,
// with a progress bar under downloading studies' state. A text longer than its
// column ends in an ellipsis: a canvas.Text draws past its size, over the
// next column.
type worklistCell struct {
	widget.BaseWidget
	s    *worklistScreen
	id   widget.TableCellID
	bg   *canvas.Rectangle
	bar  *canvas.Rectangle
	text *canvas.Text
	full string // the cell's whole text; text shows as much as fits
	frac float32
}

func newWorklistCell(s *worklistScreen) *worklistCell {
	c := &worklistCell{s: s, bg: canvas.NewRectangle(color.Transparent), bar: canvas.NewRectangle(colActive),
		text: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	c.text.TextSize = theme.TextSize()
	c.ExtendBaseWidget(c)
	return c
}

func (c *worklistCell) update(id widget.TableCellID) {
	c.id = id
	if id.Row >= len(c.s.view.Rows) {
		return
	}
	r := &c.s.view.Rows[id.Row]
	now := c.s.now()
	c.full = r.Cell(id.Col, now, c.s.target)
	c.text.Color = theme.Color(theme.ColorNameForeground)
	c.text.TextStyle = fyne.TextStyle{}
	c.bg.FillColor = color.Transparent
	if r.Priority == 0 {
		c.bg.FillColor = color.NRGBA{R: 0x60, G: 0x10, B: 0x10, A: 0xff}
		if id.Col == worklist.ColPriority {
			c.bg.FillColor = colStat
			c.text.TextStyle.Bold = true
			c.text.Color = color.White
		}
	}
	if !r.Cached {
		c.text.Color = theme.Color(theme.ColorNameDisabled)
	}
	if (id.Col == worklist.ColSince || id.Col == worklist.ColDue) && r.Overdue(now, c.s.target) {
		c.text.Color, c.text.TextStyle.Bold = colOverdue, true
	}
	if id.Col == worklist.ColState && r.State == "failed" {
		c.text.Color = colStat
	}
	if id.Col == worklist.ColState && r.Incomplete {
		c.text.Color = colWarning // amber until every instance is here
	}
	c.frac = 0
	if id.Col == worklist.ColState && r.State == "downloading" && r.Total > 0 {
		c.frac = float32(r.Done) / float32(r.Total)
	}
	c.Refresh()
}

// Tapped selects the cell's row.
func (c *worklistCell) Tapped(*fyne.PointEvent) {
	c.s.selectRow(c.id.Row)
	if cv := fyne.CurrentApp().Driver().CanvasForObject(c.s.table); cv != nil {
		cv.Focus(c.s.table)
	}
}

// DoubleTapped opens the cell's study.
func (c *worklistCell) DoubleTapped(*fyne.PointEvent) {
	c.s.selectRow(c.id.Row)
	c.s.openSelected()
}

func (c *worklistCell) CreateRenderer() fyne.WidgetRenderer { return &worklistCellRenderer{c: c} }

type worklistCellRenderer struct{ c *worklistCell }

func (r *worklistCellRenderer) Layout(size fyne.Size) {
	c := r.c
	c.bg.Resize(size)
	c.bg.Move(fyne.NewPos(0, 0))
	c.text.Text = fitText(c.full, size.Width-cellPadLeft-cellPadRight, c.text.TextSize, c.text.TextStyle)
	c.text.Move(fyne.NewPos(cellPadLeft, (size.Height-c.text.MinSize().Height)/2))
	c.text.Resize(fyne.NewSize(size.Width-cellPadLeft-cellPadRight, c.text.MinSize().Height))
	c.bar.Move(fyne.NewPos(4, size.Height-4))
	c.bar.Resize(fyne.NewSize((size.Width-8)*c.frac, 3))
}

// Space left and right of a cell's text, in Fyne units.
const cellPadLeft, cellPadRight = 6, 4

// fitText returns s, or its longest beginning that fits width with an
// ellipsis after it.
func fitText(s string, width, size float32, style fyne.TextStyle) string {
	if fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)-1 // the longest prefix that fits is r[:lo]
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(string(r[:mid])+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 && fyne.MeasureText("…", size, style).Width > width {
		return ""
	}
	return strings.TrimRight(string(r[:lo]), " ") + "…"
}

func (r *worklistCellRenderer) MinSize() fyne.Size {
	return fyne.NewSize(40, r.c.text.MinSize().Height+10)
}

func (r *worklistCellRenderer) Refresh() {
	r.Layout(r.c.Size())
	r.c.bg.Refresh()
	r.c.text.Refresh()
	r.c.bar.Hidden = r.c.frac <= 0
	r.c.bar.Refresh()
}

func (r *worklistCellRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.c.bg, r.c.text, r.c.bar}
}

func (r *worklistCellRenderer) Destroy() {}
