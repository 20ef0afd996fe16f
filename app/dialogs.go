package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	dicomtag "github.com/suyashkumar/dicom/pkg/tag"

	"teleread/viewer/dataset"
)

// showHelp lists the shortcuts.
func (ws *workstation) showHelp() {
	var rows []fyne.CanvasObject
	for _, s := range Shortcuts {
		k := widget.NewLabel(s.Keys)
		k.TextStyle.Bold = true
		d := widget.NewLabel(s.Does)
		d.Wrapping = fyne.TextWrapWord
		rows = append(rows, k, d)
	}
	grid := container.New(&helpLayout{}, rows...)
	sc := container.NewVScroll(grid)
	sc.SetMinSize(fyne.NewSize(760, 560))
	ws.showModal(dialog.NewCustom("Teleread — mouse and keyboard", "Close", sc, ws.win))
}

// helpLayout lays pairs out as two columns: keys (fixed width) and description.
type helpLayout struct{}

func (helpLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		k, d := objs[i], objs[i+1]
		d.Resize(fyne.NewSize(size.Width-260, d.MinSize().Height))
		h := max(k.MinSize().Height, d.MinSize().Height)
		k.Move(fyne.NewPos(0, y))
		k.Resize(fyne.NewSize(260, h))
		d.Move(fyne.NewPos(260, y))
		d.Resize(fyne.NewSize(size.Width-260, h))
		y += h
	}
}

func (helpLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		h += max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
	}
	return fyne.NewSize(700, h)
}

// tagLines flattens a data set into one line per element, sequence items indented.
func tagLines(ds *dataset.DataSet, depth int, out []string) []string {
	if depth > 8 {
		return out
	}
	indent := strings.Repeat("    ", depth)
	for _, e := range ds.Elements() {
		name := "?"
		if info, err := dicomtag.Find(dicomtag.Tag{Group: e.Tag.Group(), Element: e.Tag.Element()}); err == nil {
			name = info.Name
		} else if e.Tag.Group()%2 == 1 {
			name = "(private)"
		}
		out = append(out, fmt.Sprintf("%s%v %s %s  %s", indent, e.Tag, e.VR, name, tagValue(ds, e)))
		for i, it := range e.Items {
			out = append(out, fmt.Sprintf("%s    > item %d", indent, i+1))
			out = tagLines(it, depth+2, out)
		}
		if len(out) > 20000 {
			return append(out, "… (more elements not shown)")
		}
	}
	return out
}

// tagValue formats an element's value for the browser, shortening long ones.
func tagValue(ds *dataset.DataSet, e *dataset.Element) string {
	switch e.VR {
	case "SQ":
		return fmt.Sprintf("(%d items)", len(e.Items))
	case "OB", "OW", "OF", "OD", "OL", "OV", "UN":
		if len(e.Fragments) > 0 {
			// Compressed data in a sequence item (an icon image): located, not read.
			var n int64
			for _, f := range e.Fragments {
				n += f.Length
			}
			return fmt.Sprintf("<encapsulated: %s, %d bytes>", plural(len(e.Fragments), "fragment", "fragments"), n)
		}
		return fmt.Sprintf("<%d bytes>", len(e.Value))
	case "US", "SS", "UL", "SL", "FL", "FD", "UV", "SV":
		vs := ds.Floats(e.Tag)
		parts := make([]string, 0, min(len(vs), 16))
		for i, v := range vs {
			if i == 16 {
				parts = append(parts, "…")
				break
			}
			parts = append(parts, fmt.Sprintf("%g", v))
		}
		return strings.Join(parts, "\\")
	case "AT":
		return fmt.Sprintf("<%d bytes>", len(e.Value))
	}
	s := ds.ElementText(e) // decoded per the Specific Character Set in force
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// showTags opens the DICOM tag browser on the active viewport's image.
func (ws *workstation) showTags() {
	vp := ws.viewer.active
	if vp == nil || !vp.hasLast || vp.last.image == nil {
		return
	}
	lines := tagLines(vp.last.image.File.DataSet, 0, nil)
	shown := lines
	list := widget.NewList(func() int { return len(shown) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle.Monospace = true
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(shown[i]) })
	filter := newEscEntry()
	filter.SetPlaceHolder("Filter by tag, keyword or value…")
	filter.OnChanged = func(s string) {
		s = strings.ToLower(s)
		shown = shown[:0:0]
		for _, l := range lines {
			if strings.Contains(strings.ToLower(l), s) {
				shown = append(shown, l)
			}
		}
		list.Refresh()
	}
	title := fmt.Sprintf("Tags — %s", vp.st.Items[vp.index].SOP)
	c := container.NewBorder(filter, nil, nil, nil, list)
	d := dialog.NewCustom(title, "Close", c, ws.win)
	d.Resize(fyne.NewSize(1000, 700))
	filter.onEscape = d.Hide
	ws.showModal(d)
	ws.win.Canvas().Focus(filter)
}

// escEntry is an entry that hands Esc to its dialog (an Entry keeps every key).
type escEntry struct {
	widget.Entry
	onEscape func()
}

func newEscEntry() *escEntry {
	e := &escEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey closes the dialog on Esc; other keys edit the text.
func (e *escEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}
