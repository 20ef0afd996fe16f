package sync

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Turnaround is how long an assigned study may wait for its report, per
// priority: the due time is the assignment time plus this. LOW studies have
// ROUTINE's target.
type Turnaround struct {
	STAT, High, Routine time.Duration
}

// DefaultTurnaround is the target when none is configured: an hour, a quarter
// of it for STAT.
var DefaultTurnaround = Turnaround{STAT: 15 * time.Minute, High: time.Hour, Routine: time.Hour}

// For returns the target of a priority (PrioritySTAT..PriorityLow); a zero
// field falls back to DefaultTurnaround's.
func (t Turnaround) For(priority int) time.Duration {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	switch priority {
	case PrioritySTAT:
		return pick(t.STAT, DefaultTurnaround.STAT)
	case PriorityHigh:
		return pick(t.High, DefaultTurnaround.High)
	}
	return pick(t.Routine, DefaultTurnaround.Routine)
}

// Due returns when a study of priority assigned at assigned is due; the zero
// time when assigned is zero (a study nobody assigned has no due time).
func (t Turnaround) Due(priority int, assigned time.Time) time.Time {
	if assigned.IsZero() {
		return time.Time{}
	}
	return assigned.Add(t.For(priority))
}

// TurnaroundMinutes is the configuration's form of a Turnaround: either one
// number of minutes for every priority, or {"STAT": 30, "HIGH": 60,
// "ROUTINE": 240}. Zero (or absent) means the default.
type TurnaroundMinutes struct {
	STAT, High, Routine float64
}

// UnmarshalJSON accepts a number or an object keyed by priority.
func (m *TurnaroundMinutes) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("turnaround_minutes: %v: want a positive number", n)
		}
		*m = TurnaroundMinutes{n, n, n}
		return nil
	}
	var per map[string]float64
	if err := json.Unmarshal(b, &per); err != nil {
		return fmt.Errorf("turnaround_minutes: want minutes, or {\"STAT\": m, \"HIGH\": m, \"ROUTINE\": m}")
	}
	var out TurnaroundMinutes
	for k, v := range per {
		if v < 0 {
			return fmt.Errorf("turnaround_minutes: %s %v: want a positive number", k, v)
		}
		switch strings.ToUpper(k) {
		case "STAT":
			out.STAT = v
		case "HIGH":
			out.High = v
		case "ROUTINE":
			out.Routine = v
		default:
			return fmt.Errorf("turnaround_minutes: %q: want STAT, HIGH or ROUTINE", k)
		}
	}
	*m = out
	return nil
}

// MarshalJSON writes the object form (one number would lose nothing only
// when all three agree, and the object says what it means).
func (m TurnaroundMinutes) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"STAT": m.STAT, "HIGH": m.High, "ROUTINE": m.Routine})
}

// IsZero reports whether nothing is configured (for omitempty).
func (m TurnaroundMinutes) IsZero() bool { return m == TurnaroundMinutes{} }

// Turnaround converts minutes to durations.
func (m TurnaroundMinutes) Turnaround() Turnaround {
	d := func(min float64) time.Duration { return time.Duration(min * float64(time.Minute)) }
	return Turnaround{STAT: d(m.STAT), High: d(m.High), Routine: d(m.Routine)}
}

// AssignedAttribute names the study attribute (or a date and a time attribute
// joined by "+", e.g. "StudyDate+StudyTime") whose value is when the archive
// assigned a study, for a QIDO-RS worklist: the turnaround starts there.
// Keywords or eight-digit tags.
type AssignedAttribute string

// tags resolves the attribute to DICOM JSON tags (one or two).
func (a AssignedAttribute) tags() ([]string, error) {
	if a == "" {
		return nil, nil
	}
	var out []string
	for _, part := range strings.Split(string(a), "+") {
		part = strings.TrimSpace(part)
		if len(part) == 8 {
			if _, err := strconv.ParseUint(part, 16, 32); err == nil {
				out = append(out, strings.ToUpper(part))
				continue
			}
		}
		info, err := tag.FindByKeyword(part)
		if err != nil {
			return nil, fmt.Errorf("sync: assigned attribute %q: %q is not a keyword or tag", string(a), part)
		}
		out = append(out, fmt.Sprintf("%04X%04X", info.Tag.Group, info.Tag.Element))
	}
	if len(out) > 2 {
		return nil, fmt.Errorf("sync: assigned attribute %q: want one attribute, or a date and a time joined by +", string(a))
	}
	return out, nil
}

// Validate reports a name that is not a keyword or tag.
func (a AssignedAttribute) Validate() error {
	_, err := a.tags()
	return err
}

// assignedTime reads the assignment time from o; zero when absent or
// unreadable.
func assignedTime(o Object, tags []string, loc *time.Location) time.Time {
	switch len(tags) {
	case 1:
		return parseDT(o.String(tags[0]), loc)
	case 2:
		d := strings.TrimSpace(o.String(tags[0]))
		if len(d) != 8 {
			return time.Time{}
		}
		return parseDT(d+strings.TrimSpace(o.String(tags[1])), loc)
	}
	return time.Time{}
}

// parseDT reads a DICOM DT (PS3.5 6.2: YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX])
// or a DA; a value without an offset is in loc (the archive's local time, as
// the standard has it when Timezone Offset From UTC is absent). The zero time
// when it is not one.
func parseDT(s string, loc *time.Location) time.Time {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		off := s[i:]
		s = s[:i]
		if len(off) != 5 {
			return time.Time{}
		}
		h, err1 := strconv.Atoi(off[1:3])
		m, err2 := strconv.Atoi(off[3:5])
		if err1 != nil || err2 != nil {
			return time.Time{}
		}
		sec := h*3600 + m*60
		if off[0] == '-' {
			sec = -sec
		}
		loc = time.FixedZone("", sec)
	}
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
	}
	if len(s) < 8 || len(s) > 14 || len(s)%2 != 0 {
		return time.Time{}
	}
	for _, r := range s + frac {
		if r < '0' || r > '9' {
			return time.Time{}
		}
	}
	s += "000000"[:14-len(s)]
	t, err := time.ParseInLocation("20060102150405", s, loc)
	if err != nil {
		return time.Time{}
	}
	if frac != "" && len(frac) <= 6 {
		n, _ := strconv.Atoi(frac + "000000"[:6-len(frac)])
		t = t.Add(time.Duration(n) * time.Microsecond)
	}
	return t
}
