package app

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// seriesSpec describes a CT series written with dcmtk's dcmodify from the
// sample CT: one file per z (Image Position Patient along the axial normal and
// Slice Location), in instance order.
type seriesSpec struct {
	name      string // file name prefix
	patientID string
	studyUID  string
	seriesUID string
	date      string
	desc      string
	z         []float64
}

// writeSeries writes a spec's files into dir.
func writeSeries(t *testing.T, dir string, sp seriesSpec) {
	t.Helper()
	if _, err := exec.LookPath("dcmodify"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dcmodify (dcmtk) is needed to write the test series")
		}
		t.Skip("dcmodify (dcmtk) not installed")
	}
	src := filepath.Join(samplesDir(t), "ct_small_explicit_le.dcm")
	for k, z := range sp.z {
		out := filepath.Join(dir, fmt.Sprintf("%s_%03d.dcm", sp.name, k))
		copyFile(t, src, out)
		zs := strconv.FormatFloat(z, 'f', -1, 64)
		cmd := exec.Command("dcmodify", "-nb",
			"-m", "(0010,0020)="+sp.patientID,
			"-m", "(0008,0020)="+sp.date,
			"-m", "(0008,1030)="+sp.desc,
			"-m", "(0020,000d)="+sp.studyUID,
			"-m", "(0020,000e)="+sp.seriesUID,
			"-m", fmt.Sprintf("(0008,0018)=%s.%d", sp.seriesUID, k+1),
			"-m", fmt.Sprintf("(0020,0013)=%d", k+1),
			"-m", `(0020,0032)=-158.1\-179.0\`+zs,
			"-m", "(0020,1041)="+zs,
			out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dcmodify %s: %v\n%s", out, err, b)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func steps(from, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + float64(i)*step
	}
	return out
}

// indexOfZ returns the stack index of the image written at z (instance order).
func indexOfZ(zs []float64, z float64) int {
	for i, v := range zs {
		if v == z {
			return i
		}
	}
	return -1
}

func TestComparePriorScrollsByPosition(t *testing.T) {
	const cur, prior, older = "1.2.826.0.1.3680043.10.1.1", "1.2.826.0.1.3680043.10.1.2", "1.2.826.0.1.3680043.10.1.3"
	curZ := steps(0, 5, 10)         // 0 … 45 mm
	priorZ := steps(52.5, -2.5, 30) // 52.5 … -20 mm, feet first: instance 1 at the top
	tests := []struct {
		name        string
		priorID     string // the prior's Patient ID
		viaWorklist bool   // the worklist lists it as a prior of the study
	}{
		{"same patient, earlier date", "TLR-CMP-1", false},
		{"listed by the worklist as the prior", "TLR-CMP-1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			dir := t.TempDir()
			writeSeries(t, dir, seriesSpec{"cur", "TLR-CMP-1", cur, cur + ".1", "20260110", "CT CHEST", curZ})
			writeSeries(t, dir, seriesSpec{"prior", tc.priorID, prior, prior + ".1", "20250110", "CT CHEST", priorZ})
			// An older study of the patient: not the most recent prior.
			writeSeries(t, dir, seriesSpec{"older", "TLR-CMP-1", older, older + ".1", "20200110", "CT CHEST", steps(0, 10, 3)})
			sum := h.cache.ImportPaths([]string{dir}, nil)
			if sum.Imported != len(curZ)+len(priorZ)+3 || len(sum.Rejected) > 0 {
				t.Fatalf("import: %+v", sum)
			}
			if tc.viaWorklist {
				if err := h.cache.PutWorkItem(prior, "demo", "prior", cur, 2, map[string]string{"PatientID": tc.priorID}); err != nil {
					t.Fatal(err)
				}
			}
			h.reloadWorklist()
			h.openStudy(cur)
			s := h.ws.viewer
			if s.prior == nil || s.prior.StudyInstanceUID != prior {
				t.Fatalf("prior = %+v, want %s", s.prior, prior)
			}
			if s.compareBtn.Disabled() {
				t.Fatal("the compare button is disabled with a prior in the cache")
			}
			h.key(fyne.KeyK)
			left, right := s.viewports[0], s.viewports[1]
			if s.layout != 1 || !s.comparing || !s.linked {
				t.Fatalf("after K: layout %s, comparing %v, linked %v", layouts[s.layout].name, s.comparing, s.linked)
			}
			if left.study != cur || right.study != prior {
				t.Fatalf("left shows %s, right %s; want %s and %s", left.study, right.study, cur, prior)
			}
			check := func(when string) {
				t.Helper()
				lz := curZ[left.index]
				if want := indexOfZ(priorZ, lz); right.index != want {
					t.Errorf("%s: left at z=%g (image %d), right at image %d (z=%g), want image %d", when, lz, left.index,
						right.index, priorZ[right.index], want)
				}
			}
			check("opened")
			for deadline := time.Now().Add(20 * time.Second); !right.hasLast && time.Now().Before(deadline); {
				h.q.runPending()
				time.Sleep(time.Millisecond)
			}
			if lines := overlayLines(right); len(lines[1]) == 0 || lines[1][0].text != "PRIOR" || !lines[1][0].warn {
				t.Errorf("the prior's viewport is not marked PRIOR: %+v", lines[1])
			}
			if lines := overlayLines(left); len(lines[1]) > 0 && lines[1][0].text == "PRIOR" {
				t.Error("the current study's viewport is marked PRIOR")
			}
			centre := func(v *viewport) fyne.Position {
				p := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
				return p.Add(fyne.NewPos(v.Size().Width/2, v.Size().Height/2))
			}
			// Scroll the left with the wheel: the right follows by position.
			for i := 1; i < len(curZ); i++ {
				test.Scroll(h.win.Canvas(), centre(left), 0, -10)
				h.settle()
				if left.index != i {
					t.Fatalf("wheel: left at %d, want %d", left.index, i)
				}
				check(fmt.Sprintf("wheel step %d", i))
			}
			// Scroll the right: the left goes to the nearest position.
			s.setActive(right)
			right.goTo(indexOfZ(priorZ, 20))
			h.settle()
			if want := indexOfZ(curZ, 20); left.index != want {
				t.Errorf("right at z=20: left at image %d, want %d", left.index, want)
			}
			// Unlinked, the left scrolls alone; linked again, they keep that offset.
			s.setActive(left)
			h.key(fyne.KeyU)
			if s.linked || s.linkBtn.Text != "Unlinked" {
				t.Fatalf("after U: linked %v, button %q", s.linked, s.linkBtn.Text)
			}
			before := right.index
			h.key(fyne.KeyDown) // left z=25
			if right.index != before || curZ[left.index] != 25 {
				t.Fatalf("unlinked: right moved from %d to %d (left z=%g)", before, right.index, curZ[left.index])
			}
			h.key(fyne.KeyU) // offset: left 5 mm above the right
			h.key(fyne.KeyDown)
			if want := indexOfZ(priorZ, 25); right.index != want || curZ[left.index] != 30 {
				t.Errorf("relinked with offset: left z=%g, right z=%g, want 30 and 25", curZ[left.index], priorZ[right.index])
			}
			// K again ends the comparison.
			h.key(fyne.KeyK)
			if s.comparing || s.layout != 0 {
				t.Errorf("after K again: comparing %v, layout %s", s.comparing, layouts[s.layout].name)
			}
		})
	}
}

func TestCompareWithoutPriorDoesNothing(t *testing.T) {
	h := newHarness(t)
	h.openStudyWith("US")
	s := h.ws.viewer
	if s.prior != nil {
		t.Fatalf("the US sample has a prior among the samples (%s)", s.prior.StudyInstanceUID)
	}
	if !s.compareBtn.Disabled() || !s.linkBtn.Disabled() {
		t.Error("compare and link buttons are enabled without a prior")
	}
	h.key(fyne.KeyK)
	if s.comparing || s.layout != 0 {
		t.Errorf("K without a prior: comparing %v, layout %s", s.comparing, layouts[s.layout].name)
	}
	if !strings.Contains(h.ws.status.message.Text, "No prior") {
		t.Errorf("status says %q", h.ws.status.message.Text)
	}
}
