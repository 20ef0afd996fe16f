package worklist

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"teleread/cache"
	"teleread/internal/corpustest"
	tsync "teleread/sync"
)

var t0 = time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)

func TestOverdue(t *testing.T) {
	target := tsync.Turnaround{STAT: 15 * time.Minute, High: 30 * time.Minute, Routine: time.Hour}
	tests := []struct {
		name     string
		row      Row
		waited   time.Duration
		want     bool
		wantMark bool // the Assigned column starts with the warning sign
	}{
		{"routine within its hour", Row{Priority: 2, State: "ready"}, 59 * time.Minute, false, false},
		{"routine past its hour", Row{Priority: 2, State: "ready"}, 61 * time.Minute, true, true},
		{"STAT past its quarter hour", Row{Priority: 0, State: "ready"}, 16 * time.Minute, true, true},
		{"STAT within its quarter hour", Row{Priority: 0, State: "downloading"}, 14 * time.Minute, false, false},
		{"HIGH past its half hour", Row{Priority: 1, State: "ready"}, 31 * time.Minute, true, true},
		{"reported is never overdue", Row{Priority: 0, State: "reported"}, 10 * time.Hour, false, false},
		{"delivered is never overdue", Row{Priority: 2, State: "delivered"}, 10 * time.Hour, false, false},
		{"imported by hand has no clock", Row{Priority: 2, State: "ready"}, -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.row
			if tt.waited >= 0 {
				r.AssignedAt = t0.Add(-tt.waited)
			}
			if got := r.Overdue(t0, target); got != tt.want {
				t.Errorf("Overdue = %v, want %v", got, tt.want)
			}
			for _, col := range []int{ColSince, ColDue} {
				cell := r.Cell(col, t0, target)
				if mark := len(cell) > 0 && []rune(cell)[0] == '⚠'; mark != tt.wantMark {
					t.Errorf("%s column %q: warning sign %v, want %v", ColumnTitles[col], cell, mark, tt.wantMark)
				}
			}
		})
	}
}

func TestStateText(t *testing.T) {
	tests := []struct {
		name string
		row  Row
		want string
	}{
		{"ready", Row{State: "ready"}, "ready"},
		{"downloading with a count", Row{State: "downloading", Done: 3, Total: 10}, "downloading 3/10"},
		{"downloading without", Row{State: "downloading"}, "downloading"},
		{"failed with its reason", Row{State: "failed", Reason: "archive offline"}, "failed: archive offline"},
		{"incomplete while read", Row{State: "reading", Incomplete: true, Done: 4, Total: 9}, "incomplete 4/9 · reading"},
		{"incomplete, count unknown", Row{State: "ready", Incomplete: true, Done: 4}, "incomplete 4/?"},
		{"incomplete and failed", Row{State: "failed", Reason: "gone", Incomplete: true, Done: 1, Total: 2}, "incomplete 1/2 · failed: gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.row.StateText(); got != tt.want {
				t.Errorf("StateText = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestViewOrderAndFilter: the reading order puts shared studies first, then
// STAT, then the longest waiting; a column sort and a filter apply on top.
func TestViewOrderAndFilter(t *testing.T) {
	rows := []Row{
		{UID: "routine-new", Priority: 2, AssignedAt: t0.Add(-time.Minute), PatientName: "Zed^A", Description: "CT HEAD"},
		{UID: "stat", Priority: 0, AssignedAt: t0.Add(-time.Minute), PatientName: "Young^B", Description: "MR KNEE"},
		{UID: "routine-old", Priority: 2, AssignedAt: t0.Add(-time.Hour), PatientName: "Adams^C", Description: "CT CHEST"},
		{UID: "by-hand", Priority: 2, StudyDate: "20261201", PatientName: "Brown^D", Description: "XR"},
		{UID: "shared", Priority: 2, Shared: true, PatientName: "Consult^E", Description: "US"},
	}
	tests := []struct {
		name    string
		sortCol int
		desc    bool
		filter  string
		want    []string
	}{
		{"reading order", -1, false, "", []string{"shared", "stat", "routine-old", "routine-new", "by-hand"}},
		{"by patient", ColPatient, false, "", []string{"routine-old", "by-hand", "shared", "stat", "routine-new"}},
		{"by patient, descending", ColPatient, true, "", []string{"routine-new", "stat", "shared", "by-hand", "routine-old"}},
		{"filter on description", -1, false, "ct", []string{"routine-old", "routine-new"}},
		{"filter on the displayed name", -1, false, "adams, c", []string{"routine-old"}},
		{"filter on priority", -1, false, "stat", []string{"stat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := View{SortCol: tt.sortCol, Desc: tt.desc, Filter: tt.filter}
			v.Set(slices.Clone(rows))
			var got []string
			for _, r := range v.Rows {
				got = append(got, r.UID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			if len(tt.want) > 0 && v.IndexOf(tt.want[0]) != 0 {
				t.Errorf("IndexOf(%s) = %d, want 0", tt.want[0], v.IndexOf(tt.want[0]))
			}
			if v.IndexOf("nowhere") != -1 {
				t.Error("IndexOf of a study not shown is not -1")
			}
		})
	}
}

// TestLoad reads a real cache: cached studies are ready, a worklist row whose
// study is not cached yet is listed with its state, a prior fetched for an
// assigned study is not a row of its own.
func TestLoad(t *testing.T) {
	dir := corpustest.Dir(t)
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.ImportFile(filepath.Join(dir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	cached := res.StudyInstanceUID
	if err := c.PutWorkItem("1.2.3.waiting", "Doe^Jane", "assigned", "", 0, map[string]string{"PatientName": "Roe^R", "ModalitiesInStudy": "CT,PT"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStudyState("1.2.3.waiting", "downloading", 2, 5, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.PutWorkItem("1.2.3.prior", "Doe^Jane", "prior", "1.2.3.waiting", 2, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := Load(c)
	if err != nil {
		t.Fatal(err)
	}
	byUID := map[string]Row{}
	for _, r := range rows {
		byUID[r.UID] = r
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows %v, want the cached study and the waiting one", len(rows), byUID)
	}
	if r := byUID[cached]; !r.Cached || r.State != "ready" || r.Priority != 2 {
		t.Errorf("cached study: %+v, want cached, ready, ROUTINE", r)
	}
	if r := byUID["1.2.3.waiting"]; r.Cached || r.State != "downloading" || r.Done != 2 || r.Total != 5 || r.Priority != 0 || r.Modalities != "CT/PT" || r.AssignedAt.IsZero() {
		t.Errorf("waiting study: %+v, want not cached, downloading 2/5, STAT, CT/PT, with its assignment time", r)
	}
	if _, ok := byUID["1.2.3.prior"]; ok {
		t.Error("a prior is listed as a row of its own")
	}
}
