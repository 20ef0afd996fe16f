package app

import (
	"fmt"
	"strings"

	"teleread/app/internal/format"
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

// overlayLines returns the four corners' text of the picture on screen: top
// left the patient, top right the study, bottom left the series and image
// position, bottom right the display. An empty viewport has none. The patient's
// name and ID, the study date and the series and instance come from the
// picture's own identity and are always shown, empty values said so.
func overlayLines(v *viewport) [4][]overlayLine {
	var c [4][]overlayLine
	pic, ok := v.onScreen()
	if !ok || v.last.image == nil {
		return c
	}
	who := pic.who
	ds := v.last.image.File.DataSet
	add := func(corner int, s string) {
		if s = strings.TrimSpace(s); s != "" {
			c[corner] = append(c[corner], overlayLine{text: s})
		}
	}
	warn := func(corner int, s string) { c[corner] = append(c[corner], overlayLine{text: s, warn: true}) }

	add(0, orNone(who.PatientName, "(no patient name)"))
	add(0, "ID "+orNone(who.PatientID, "(none)"))
	add(0, format.AgeSex(ds.String(dataset.PatientBirthDate), who.StudyDate, ds.String(dataset.PatientSex)))

	// Another patient's image is marked by the viewport's red banner.
	if study, patient := v.host.openStudy(); who.PatientID == patient && who.StudyUID != study {
		warn(1, "PRIOR")
	}
	// Until every instance the archive counts is here, the reader is told,
	// in the study's corner, how much is; and before the cache said, that
	// nobody knows yet.
	if c, known := v.host.completenessOf(v.study); !known {
		warn(1, "completeness unknown")
	} else if !c.Complete() {
		warn(1, "incomplete "+c.Fraction())
	}
	// Pixels that are not the original ones are said so, whatever else the
	// corner holds: a reader must not measure or rule out on them unaware.
	if who.Lossy != "" {
		warn(1, who.Lossy)
	}
	add(1, ds.Text(dataset.StudyDescription))
	add(1, orNone(format.Date(who.StudyDate), "(no study date)")+" "+format.Time(ds.String(dataset.StudyTime)))
	add(1, ds.Text(tagInstitutionName))

	// The stack position is the request's: the picture's own image.
	idx := v.last.req.index
	it := v.last.req.item
	se := v.st.Series
	add(2, fmt.Sprintf("Se %d  %s %s", who.SeriesNumber, se.Modality, se.Description))
	if it.Frames > 1 {
		add(2, fmt.Sprintf("Im %d  frame %d/%d", who.Instance, it.Frame+1, it.Frames))
	} else {
		add(2, fmt.Sprintf("Im %d/%d  (#%d)", idx+1, len(v.st.Items), who.Instance))
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
		if shown, dropped := v.metrics.Cine(); v.playing() || shown > 0 {
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

// orNone returns s, or what to show when the header leaves it empty.
func orNone(s, none string) string {
	if strings.TrimSpace(s) == "" {
		return none
	}
	return s
}
