package sync

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTurnaroundMinutesJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Turnaround
		wantErr bool
	}{
		{"one number for all three", `1`, Turnaround{time.Minute, time.Minute, time.Minute}, false},
		{"per priority", `{"STAT": 30, "HIGH": 120, "ROUTINE": 1440}`, Turnaround{30 * time.Minute, 2 * time.Hour, 24 * time.Hour}, false},
		{"lower case keys", `{"stat": 5}`, Turnaround{STAT: 5 * time.Minute, High: time.Hour, Routine: time.Hour}, false},
		{"absent priorities take the default", `{"ROUTINE": 90}`, Turnaround{STAT: 15 * time.Minute, High: time.Hour, Routine: 90 * time.Minute}, false},
		{"unknown priority", `{"URGENT": 5}`, Turnaround{}, true},
		{"negative", `-3`, Turnaround{}, true},
		{"text", `"an hour"`, Turnaround{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m TurnaroundMinutes
			err := json.Unmarshal([]byte(tc.in), &m)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Unmarshal(%s) error %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got := m.Turnaround()
			for p := PrioritySTAT; p <= PriorityLow; p++ {
				want := map[int]time.Duration{PrioritySTAT: tc.want.STAT, PriorityHigh: tc.want.High, PriorityRoutine: tc.want.Routine, PriorityLow: tc.want.Routine}[p]
				if got.For(p) != want {
					t.Errorf("priority %d: target %v, want %v", p, got.For(p), want)
				}
			}
		})
	}
}

func TestParseDT(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		in   string
		want time.Time
	}{
		{"20261205013000", time.Date(2026, 12, 5, 1, 30, 0, 0, utc)},
		{"20261205013000.25", time.Date(2026, 12, 5, 1, 30, 0, 250_000_000, utc)},
		{"202612050130", time.Date(2026, 12, 5, 1, 30, 0, 0, utc)},
		{"20261205", time.Date(2026, 12, 5, 0, 0, 0, 0, utc)},
		{"20261205013000+0100", time.Date(2026, 12, 5, 0, 30, 0, 0, utc)},
		{"20261205013000.000000-0500", time.Date(2026, 12, 5, 6, 30, 0, 0, utc)},
		{" 20261205013000 ", time.Date(2026, 12, 5, 1, 30, 0, 0, utc)},
		{"", time.Time{}},
		{"2026120", time.Time{}},
		{"20261305013000", time.Time{}}, // month 13
		{"2026120501300x", time.Time{}},
		{"20261205013000+01", time.Time{}},
	}
	for _, tc := range tests {
		got := parseDT(tc.in, utc)
		if !got.Equal(tc.want) {
			t.Errorf("parseDT(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAssignedAttribute(t *testing.T) {
	o := Object{
		TagStudyDate: {VR: "DA", Values: []string{"20261204"}},
		TagStudyTime: {VR: "TM", Values: []string{"2330"}},
		"00404005":   {VR: "DT", Values: []string{"20261205010203"}},
	}
	tests := []struct {
		attr    AssignedAttribute
		want    time.Time
		wantErr bool
	}{
		{"StudyDate+StudyTime", time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC), false},
		{"00080020+00080030", time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC), false},
		{"ScheduledProcedureStepStartDateTime", time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC), false},
		{"StudyDate", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), false},
		{"PatientAge", time.Time{}, false}, // a keyword the study lacks: no time
		{"NoSuchKeyword", time.Time{}, true},
		{"StudyDate+StudyTime+StudyTime", time.Time{}, true},
	}
	for _, tc := range tests {
		tags, err := tc.attr.tags()
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: error %v, wantErr %v", tc.attr, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		if got := assignedTime(o, tags, time.UTC); !got.Equal(tc.want) {
			t.Errorf("%q: %v, want %v", tc.attr, got, tc.want)
		}
	}
}

func TestWorkitemAssignedAt(t *testing.T) {
	loc := time.Local
	tests := []struct {
		name                string
		scheduled, modified string
		want                time.Time
	}{
		{"start date time", "20261205010000", "20261204220000", time.Date(2026, 12, 5, 1, 0, 0, 0, loc)},
		{"modification when no start", "", "20261204220000", time.Date(2026, 12, 4, 22, 0, 0, 0, loc)},
		{"neither", "", "", time.Time{}},
	}
	for _, tc := range tests {
		w := Workitem{Scheduled: tc.scheduled, Modified: tc.modified}
		if got := w.AssignedAt(); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
