package app

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"

	"teleread/app/internal/worklist"
	tsync "teleread/sync"
)

// dropFolder is the test corpus's files when present, else the repository's
// samples.
func dropFolder(t *testing.T) string {
	d := filepath.Join("..", "testdata", "corpus", "files")
	if m, _ := filepath.Glob(filepath.Join(d, "*.dcm")); len(m) > 0 {
		return d
	}
	return samplesDir(t)
}

// dcmdumpStudy reads a file's Study Instance UID with dcmtk's dcmdump.
func dcmdumpStudy(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("dcmdump", "-q", "+P", "0020,000d", path).Output()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`\(0020,000d\) UI \[([0-9.]+)\]`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// waitImports runs queued UI work until the workstation's imports are done.
func (h *harness) waitImports() {
	h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for h.ws.imports > 0 {
		if time.Now().After(deadline) {
			h.t.Fatal("the import never finished")
		}
		h.q.runPending()
		time.Sleep(time.Millisecond)
	}
	h.q.runPending()
	// The studies imported are listed, then the first opens.
	settleWorklist(h.t, h.ws, h.q)
	settleOpen(h.t, h.ws, h.q)
}

func TestDropOpensSharedStudies(t *testing.T) {
	if _, err := exec.LookPath("dcmdump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dcmdump (dcmtk) is needed for the reference Study Instance UIDs")
		}
		t.Skip("dcmdump (dcmtk) not installed")
	}
	folder, err := filepath.Abs(dropFolder(t))
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Abs(samplesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		drop func(t *testing.T) string // the path dropped
		src  string                    // the folder whose files it holds
	}{
		{"corpus folder", func(*testing.T) string { return folder }, folder},
		{"zip of the samples", func(t *testing.T) string { return zipFolder(t, samples) }, samples},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.ws.dropped(fyne.NewPos(300, 300), []fyne.URI{storage.NewFileURI(tc.drop(t))})
			h.waitImports()
			checkShared(t, h, tc.src)
		})
	}
}

// zipFolder zips a folder's .dcm files into a temporary zip.
func zipFolder(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "study.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	for _, p := range files {
		w, err := zw.Create("DICOM/" + filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkShared checks that the studies of the dropped files are marked shared,
// listed first, and that the first of them is open. The reference is the Study
// Instance UID dcmdump reads from every file the cache did not reject.
func checkShared(t *testing.T, h *harness, src string) {
	t.Helper()
	rejected := map[string]bool{}
	for _, r := range append(h.ws.lastOpen.sum.Rejected, h.ws.lastOpen.sum.Conflicts...) {
		rejected[filepath.Base(r.Name)] = true
	}
	rows := h.ws.worklist.view.Rows
	files, _ := filepath.Glob(filepath.Join(src, "*.dcm"))
	studies, err := h.cache.Studies()
	if err != nil {
		t.Fatal(err)
	}
	source := map[string]string{}
	for _, s := range studies {
		source[s.StudyInstanceUID] = s.Source
	}
	want := map[string]bool{}
	for _, f := range files {
		if rejected[filepath.Base(f)] {
			continue
		}
		if uid := dcmdumpStudy(t, f); uid != "" {
			want[uid] = true
		}
	}
	if len(want) == 0 {
		t.Fatalf("no study found in %s", src)
	}
	shared := 0
	for i, r := range rows {
		if r.Shared {
			shared++
			if i != shared-1 {
				t.Errorf("shared study %s listed at row %d, after a study not shared", r.UID, i)
			}
		}
	}
	for uid := range want {
		if source[uid] != worklist.SourceShared {
			t.Errorf("study %s of the drop has source %q, want shared", uid, source[uid])
		}
		if i := h.ws.worklist.view.IndexOf(uid); i < 0 || i >= shared {
			t.Errorf("study %s of the drop is listed at row %d, not among the %d shared at the top", uid, i, shared)
		}
	}
	if shared < len(want) {
		t.Errorf("%d shared rows, want at least %d", shared, len(want))
	}
	if got := rows[0].Cell(worklist.ColPriority, h.now, tsync.Turnaround{}); got != "SHARED" {
		t.Errorf("first row's priority column = %q, want SHARED", got)
	}
	// The user's own drop opens the first study.
	if !h.ws.onViewer || h.ws.viewer.study.StudyInstanceUID != rows[0].UID {
		t.Errorf("after the drop the viewer shows %q (on viewer %v), want the first shared study %s",
			h.ws.viewer.study.StudyInstanceUID, h.ws.onViewer, rows[0].UID)
	}
}

func TestOpenWhileReadingLeavesTheReading(t *testing.T) {
	h := newHarness(t)
	h.openStudyWith("MR")
	abs, err := filepath.Abs(samplesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	h.ws.openPaths([]string{abs})
	// The reader opens another study before the import is done.
	h.ws.showWorklist()
	h.openStudyWith("CT")
	reading := h.ws.viewer.study.StudyInstanceUID
	focused := h.win.Canvas().Focused()
	h.waitImports()
	if got := h.ws.viewer.study.StudyInstanceUID; got != reading {
		t.Errorf("an import finishing after the reader opened %s switched the viewer to %s", reading, got)
	}
	if h.win.Canvas().Focused() != focused {
		t.Error("an import finishing took the keyboard focus")
	}
	if n := len(h.ws.worklist.view.Rows); n == 0 || !h.ws.worklist.view.Rows[0].Shared {
		t.Error("the opened studies are not listed first")
	}
}
