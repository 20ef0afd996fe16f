// Package format writes DICOM values as a reader reads them: person names
// in every character set's groups, dates, times, and age and sex.
package format

import (
	"strconv"
	"strings"
	"time"
)

// PersonName formats a DICOM person name for display: the alphabetic group
// "Family^Given^Middle" as "Family, Given Middle", then the ideographic and
// phonetic groups (the name in the patient's own script) with their
// components separated by spaces: "Yamada, Tarou = 山田 太郎 = やまだ たろう".
func PersonName(pn string) string {
	var out []string
	for i, g := range strings.Split(pn, "=") {
		parts := strings.Split(g, "^")
		for j := range parts {
			parts[j] = strings.TrimSpace(parts[j])
		}
		var s string
		if i == 0 {
			s = parts[0]
			if given := strings.TrimSpace(strings.Join(parts[1:min(3, len(parts))], " ")); given != "" {
				s += ", " + given
			}
		} else {
			s = strings.Join(strings.Fields(strings.Join(parts[:min(3, len(parts))], " ")), " ")
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " = ")
}

// AgeSex formats the patient's age at the study ("54Y", "3M", "12D") and sex.
func AgeSex(birth, studyDate, sex string) string {
	age := ""
	b, err1 := time.Parse("20060102", birth)
	s, err2 := time.Parse("20060102", studyDate)
	if err1 == nil && err2 == nil && !s.Before(b) {
		years := s.Year() - b.Year()
		// Not yet the birthday this year (by month and day: the day of the
		// year shifts by one after February in a leap year).
		if s.Month() < b.Month() || s.Month() == b.Month() && s.Day() < b.Day() {
			years--
		}
		switch days := int(s.Sub(b).Hours() / 24); {
		case years >= 2:
			age = strconv.Itoa(years) + "Y"
		case days >= 60:
			age = strconv.Itoa(days/30) + "M"
		default:
			age = strconv.Itoa(days) + "D"
		}
	}
	sex = strings.TrimSpace(sex)
	switch {
	case age == "" && sex == "":
		return ""
	case age == "":
		return sex
	case sex == "":
		return age
	}
	return age + "/" + sex
}

// Date writes a DA value (YYYYMMDD) as YYYY-MM-DD; anything else as it is.
func Date(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}

// Time writes a TM value (HHMMSS.frac) as HH:MM; anything shorter as it is.
func Time(t string) string {
	if len(t) >= 4 {
		return t[:2] + ":" + t[2:4]
	}
	return t
}
