package app

import (
	"fmt"
	"strings"

	"teleread/viewer"
	"teleread/viewer/dataset"
)

// Tags the overlays and measurements read.
var (
	tagPixelPaddingValue = dataset.PixelPaddingValue
	tagModality          = dataset.Modality
	tagRescaleType       = dataset.RescaleType
	tagInstitutionName   = dataset.InstitutionName
)

type overlayLine struct {
	text string
	warn bool
}

// overlayLines returns the four corners' text: top left the patient, top right
// the study, bottom left the series and image position, bottom right the display.
func overlayLines(v *viewport) [4][]overlayLine {
	var c [4][]overlayLine
	if v.st == nil || !v.hasLast || v.last.image == nil {
		return c
	}
	ds := v.last.image.File.DataSet
	add := func(corner int, s string) {
		if s = strings.TrimSpace(s); s != "" {
			c[corner] = append(c[corner], overlayLine{text: s})
		}
	}
	warn := func(corner int, s string) { c[corner] = append(c[corner], overlayLine{text: s, warn: true}) }

	add(0, personName(ds.Text(dataset.PatientName)))
	add(0, "ID "+ds.Text(dataset.PatientID))
	add(0, ageSex(ds.String(dataset.PatientBirthDate), ds.String(dataset.StudyDate), ds.String(dataset.PatientSex)))

	if s := v.ws.viewer; s != nil && v.study != s.study.StudyInstanceUID {
		warn(1, "PRIOR")
	}
	add(1, ds.Text(dataset.StudyDescription))
	add(1, formatDate(ds.String(dataset.StudyDate))+" "+formatTime(ds.String(dataset.StudyTime)))
	add(1, ds.Text(tagInstitutionName))

	it := v.st.Items[v.index]
	se := v.st.Series
	add(2, fmt.Sprintf("Se %d  %s %s", se.SeriesNumber, se.Modality, se.Description))
	if it.Frames > 1 {
		add(2, fmt.Sprintf("Im %d  frame %d/%d", it.Instance, it.Frame+1, it.Frames))
	} else {
		add(2, fmt.Sprintf("Im %d/%d", v.index+1, len(v.st.Items)))
	}
	if loc, ok := ds.Float(dataset.SliceLocation); ok {
		s := fmt.Sprintf("Loc %.1f mm", loc)
		if th, ok := ds.Float(dataset.SliceThickness); ok {
			s += fmt.Sprintf("  Thk %.1f mm", th)
		}
		add(2, s)
	}

	f := v.last.frame
	if f != nil && f.Color == viewer.Monochrome {
		d := v.last.display
		if d.VOILUT != nil && v.window == nil {
			add(3, "VOI LUT")
		} else {
			add(3, fmt.Sprintf("W %.0f  L %.0f", d.Window.Width, d.Window.Center))
		}
		if v.invert {
			add(3, "Inverted")
		}
	}
	if f != nil {
		add(3, fmt.Sprintf("Zoom %.0f%%  %dx%d", v.scale()*100, f.Cols, f.Rows))
	}
	if v.view.Rotation != 0 || v.view.FlipH || v.view.FlipV {
		s := fmt.Sprintf("Rot %d°", v.view.Rotation*90)
		if v.view.FlipH {
			s += " FlipH"
		}
		if v.view.FlipV {
			s += " FlipV"
		}
		add(3, s)
	}
	if it.Frames > 1 {
		state := "paused"
		if v.playing() {
			state = fmt.Sprintf("playing %.1f fps", v.cineRate)
		}
		s := fmt.Sprintf("Cine %s  x%.2g  %v", state, v.cineSpeed, v.cineMode)
		add(3, s)
		if shown, dropped := v.ws.cfg.Metrics.Cine(); v.playing() || shown > 0 {
			add(3, fmt.Sprintf("shown %d  dropped %d", shown, dropped))
		}
	}
	if f != nil && v.last.cal.Source() == viewer.SpacingNone {
		warn(2, "Uncalibrated: measurements in pixels")
	}
	if v.last.err != nil {
		warn(3, v.last.err.Error())
	}
	return c
}
