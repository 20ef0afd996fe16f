package app

import (
	"fmt"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"teleread/viewer"
)

// measurement is a length, angle or ellipse ROI drawn on one image, in image
// coordinates so that it stays on the anatomy when the view zooms or pans.
type measurement struct {
	kind tool
	pts  []viewer.ImagePoint
	text string
	warn bool // the value is in pixels or carries a calibration caveat
}

// measureDrag starts or extends the measurement being drawn.
// The first drag event already carries the first movement, so the measurement
// starts where the pointer was before it.
func (v *viewport) measureDrag(pos fyne.Position, delta fyne.Delta) {
	p, ok := v.imagePoint(pos)
	if !ok {
		return
	}
	if v.drawing == nil || v.drawing.kind != v.host.activeTool() || (v.drawing.kind == toolAngle && len(v.drawing.pts) >= 2 && v.button == 0) {
		start, _ := v.imagePoint(pos.Subtract(fyne.NewPos(delta.DX, delta.DY)))
		v.drawing = &measurement{kind: v.host.activeTool(), pts: []viewer.ImagePoint{start, p}}
	} else {
		v.drawing.pts[len(v.drawing.pts)-1] = p
	}
	v.drawing.compute(v)
	v.Refresh()
}

// finishMeasure keeps the measurement drawn on the current image.
func (v *viewport) finishMeasure() {
	m := v.drawing
	v.drawing = nil
	if m == nil || len(m.pts) < 2 {
		return
	}
	if m.kind == toolAngle && len(m.pts) < 3 {
		v.drawing = m // waits for the third point (a click)
		return
	}
	m.compute(v)
	v.measures[v.index] = append(v.measures[v.index], m)
	v.Refresh()
	v.notify()
}

// deleteLastMeasure removes the newest measurement on the current image.
func (v *viewport) deleteLastMeasure() {
	if v.drawing != nil {
		v.drawing = nil
	} else if ms := v.measures[v.index]; len(ms) > 0 {
		v.measures[v.index] = ms[:len(ms)-1]
	}
	v.Refresh()
}

// compute sets the measurement's text from the image on screen.
func (m *measurement) compute(v *viewport) {
	if !v.hasLast || v.last.frame == nil {
		return
	}
	cal := v.last.cal
	switch m.kind {
	case toolLength:
		d := viewer.MeasureLength(cal, m.pts[0], m.pts[1])
		m.text, m.warn = formatDistance(d), !d.Calibrated() || d.Note != ""
	case toolAngle:
		if len(m.pts) < 3 {
			m.text = ""
			return
		}
		a := viewer.MeasureAngle(cal, m.pts[0], m.pts[1], m.pts[2])
		m.text = fmt.Sprintf("%.1f°", a.Degrees)
		if a.Note != "" {
			m.text += " (" + a.Note + ")"
		}
		m.warn = a.Note != ""
	case toolEllipse:
		e := viewer.EllipseFromCorners(m.pts[0], m.pts[1])
		f := v.last.frame
		d := v.last.display
		st := viewer.MeasureEllipse(cal, e, f.Cols, f.Rows, viewer.ModalityValues(f, &d, v.last.padding...))
		m.text, m.warn = formatROI(st, modalityUnit(v)), st.AreaUnit != "mm²" || st.Note != ""
	}
}

func formatDistance(d viewer.Distance) string {
	if !d.Calibrated() {
		s := fmt.Sprintf("%.1f px", d.Pixels)
		if d.Note != "" {
			s += " — uncalibrated: " + d.Note
		} else {
			s += " — uncalibrated"
		}
		return s
	}
	s := fmt.Sprintf("%.1f %v", d.Value, d.Unit)
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}

func formatROI(st viewer.ROIStats, unit string) string {
	var b strings.Builder
	if st.Count == 0 {
		b.WriteString("no values")
	} else {
		fmt.Fprintf(&b, "mean %.1f SD %.1f %s\nmin %.0f max %.0f", st.Mean, st.SD, unit, st.Min, st.Max)
	}
	fmt.Fprintf(&b, "\narea %.1f %s", st.Area, st.AreaUnit)
	if st.AreaUnit != "mm²" {
		b.WriteString(" — uncalibrated")
	}
	if st.Note != "" {
		b.WriteString(" (" + st.Note + ")")
	}
	return b.String()
}

// modalityUnit names the unit of the modality values: HU for CT, else the
// Rescale Type when given, else nothing.
func modalityUnit(v *viewport) string {
	if v.last.image == nil {
		return ""
	}
	ds := v.last.image.File.DataSet
	if strings.TrimSpace(ds.String(tagModality)) == "CT" {
		return "HU"
	}
	if t := strings.TrimSpace(ds.String(tagRescaleType)); t != "" && t != "US" {
		return t
	}
	return ""
}

// measurementObjects draws the measurements of the current image.
func measurementObjects(v *viewport) []fyne.CanvasObject {
	if !v.hasLast || v.last.frame == nil {
		return nil
	}
	var out []fyne.CanvasObject
	ms := v.measures[v.index]
	if v.drawing != nil {
		ms = append(append([]*measurement(nil), ms...), v.drawing)
	}
	for _, m := range ms {
		out = append(out, v.drawMeasure(m)...)
	}
	return out
}

func (v *viewport) drawMeasure(m *measurement) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	line := func(a, b viewer.ImagePoint) {
		l := canvas.NewLine(colMeasure)
		l.StrokeWidth = 1.5
		l.Position1, l.Position2 = v.widgetPoint(a), v.widgetPoint(b)
		out = append(out, l)
	}
	var labelAt fyne.Position
	switch m.kind {
	case toolLength, toolAngle:
		for i := 1; i < len(m.pts); i++ {
			line(m.pts[i-1], m.pts[i])
		}
		labelAt = v.widgetPoint(m.pts[len(m.pts)-1]).Add(fyne.NewPos(8, -6))
	case toolEllipse:
		a, b := v.widgetPoint(m.pts[0]), v.widgetPoint(m.pts[1])
		c := canvas.NewCircle(nil)
		c.StrokeColor, c.StrokeWidth = colMeasure, 1.5
		x0, y0 := min(a.X, b.X), min(a.Y, b.Y)
		c.Move(fyne.NewPos(x0, y0))
		c.Resize(fyne.NewSize(float32(math.Abs(float64(a.X-b.X))), float32(math.Abs(float64(a.Y-b.Y)))))
		out = append(out, c)
		labelAt = fyne.NewPos(max(a.X, b.X)+6, y0)
	}
	colour := colMeasure
	if m.warn {
		colour = colWarning
	}
	for i, s := range strings.Split(m.text, "\n") {
		if s == "" {
			continue
		}
		t := canvas.NewText(s, colour)
		t.TextSize = 12
		t.TextStyle.Bold = true
		t.Move(labelAt.Add(fyne.NewPos(0, float32(i*14))))
		t.Resize(t.MinSize())
		out = append(out, t)
	}
	return out
}
