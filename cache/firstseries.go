package cache

import "strings"

// nonImage are modalities of series that carry no images to read: reports,
// presentation states, key object selections, documents, registrations,
// radiotherapy plans and structure sets.
var nonImage = map[string]bool{"SR": true, "PR": true, "KO": true, "DOC": true, "REG": true, "RTPLAN": true, "RTSTRUCT": true}

// ImageModality reports whether a series of this modality holds images to
// read (the viewer stacks only those).
func ImageModality(modality string) bool { return !nonImage[strings.TrimSpace(modality)] }

// SeriesSize is what FirstSeries weighs of a series.
type SeriesSize struct {
	Modality  string
	Number    int  // Series Number
	HasNumber bool // false when the series has none
	Instances int
}

// FirstSeries returns the index of the series a reader sees first when a
// study opens: the largest series (by instances) of the study's main
// modality, the image modality with the most instances; ties go to the
// lower series number, then to the earlier series. The viewer shows it
// first and the puller fetches it first, so that what the reader opens is
// what arrives first. There is no hanging protocol yet; one would choose
// here. It returns 0 when no series is of an image modality, and -1 for no
// series.
func FirstSeries(series []SeriesSize) int {
	if len(series) == 0 {
		return -1
	}
	byModality := map[string]int{}
	for _, s := range series {
		if ImageModality(s.Modality) {
			byModality[s.Modality] += s.Instances
		}
	}
	main, most := "", -1
	for m, n := range byModality {
		if n > most || (n == most && m < main) {
			main, most = m, n
		}
	}
	first := -1
	for i, s := range series {
		if most < 0 || s.Modality != main {
			continue
		}
		switch f := series[max(first, 0)]; {
		case first < 0, s.Instances > f.Instances:
			first = i
		case s.Instances == f.Instances && s.HasNumber && (!f.HasNumber || s.Number < f.Number):
			first = i
		}
	}
	return max(first, 0)
}
