package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// needTools skips (locally) or fails (CI=true) when a tool is missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
}

// telereadEnv runs teleread with extra environment variables.
func telereadEnv(t *testing.T, home string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--home", home}, args...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	cmd.Env = append(append(os.Environ(), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"), "DISPLAY="), env...)
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run teleread %v: %v", args, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss
	}
	return r
}

type studyRow struct {
	StudyInstanceUID  string
	NumberOfSeries    int
	NumberOfInstances int
	Source            string
}

func studiesOf(t *testing.T, home string) []studyRow {
	t.Helper()
	r := teleread(t, home, "studies", "--json")
	if r.code != 0 {
		t.Fatalf("studies: %d %s", r.code, r.stderr)
	}
	var rows []studyRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("studies --json: %v\n%s", err, r.stdout)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].StudyInstanceUID < rows[j].StudyInstanceUID })
	return rows
}

// TestExportOpenCLI: each corpus study exported de-identified with `teleread
// export` opens with `teleread open` (one shared study, same instance count)
// and its DICOMDIR reads with dcmdump.
func TestExportOpenCLI(t *testing.T) {
	requireCorpus(t)
	needTools(t, "dcmdump")
	src := t.TempDir()
	teleread(t, src, "import", "-q", filepath.Join(corpusDir, "files"))
	for _, st := range studiesOf(t, src) {
		t.Run(st.StudyInstanceUID, func(t *testing.T) {
			zp := filepath.Join(t.TempDir(), "out.zip")
			r := teleread(t, src, "export", "--deidentify", "--include-burned-in", st.StudyInstanceUID, "-o", zp)
			if r.code != 0 {
				t.Fatalf("export: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "de-identified") || !strings.Contains(r.stdout, "burned-in") {
				t.Errorf("summary does not state the profile and burned-in images:\n%s", r.stdout)
			}
			dst := t.TempDir()
			r = teleread(t, dst, "open", "--no-app", zp)
			if r.code != 0 {
				t.Fatalf("open: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			got := studiesOf(t, dst)
			if len(got) != 1 || got[0].NumberOfInstances != st.NumberOfInstances || got[0].Source != "shared" {
				t.Errorf("opened %+v, want 1 shared study with %d instances", got, st.NumberOfInstances)
			}
			if got[0].StudyInstanceUID == st.StudyInstanceUID {
				t.Errorf("study UID not replaced")
			}
			dd := filepath.Join(t.TempDir(), "DICOMDIR")
			extract(t, zp, "DICOMDIR", dd)
			if out, err := exec.Command("dcmdump", dd).CombinedOutput(); err != nil {
				t.Errorf("dcmdump DICOMDIR: %v\n%.2000s", err, out)
			}
		})
	}
}

func extract(t *testing.T, zp, name, dst string) {
	t.Helper()
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != name {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s has no %s", zp, name)
}

// TestOpenDcmmkdir: a DICOMDIR tree written by dcmtk's dcmmkdir from corpus
// files (copied to 8.3 names) opens with `teleread open` and shows the same
// studies as importing the files it references directly.
func TestOpenDcmmkdir(t *testing.T) {
	requireCorpus(t)
	needTools(t, "dcmmkdir")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "DICOM"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "files", "*.dcm"))
	sort.Strings(files)
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "DICOM", fmt.Sprintf("IM%06d", i+1)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("dcmmkdir", "+I", "+id", dir, "+r", "-Pfl", "+D", filepath.Join(dir, "DICOMDIR"), "DICOM")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dcmmkdir: %v\n%.3000s", err, out)
	}
	refs, err := cache.DICOMDIRFiles(filepath.Join(dir, "DICOMDIR"))
	if err != nil || len(refs) == 0 {
		t.Fatalf("DICOMDIR references: %v (%d)", err, len(refs))
	}
	viaDir := t.TempDir()
	if r := teleread(t, viaDir, "open", "--no-app", filepath.Join(dir, "DICOMDIR")); r.code != 0 {
		t.Fatalf("open DICOMDIR: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	direct := t.TempDir()
	teleread(t, direct, append([]string{"import", "-q"}, refs...)...)
	a, b := studiesOf(t, viaDir), studiesOf(t, direct)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("DICOMDIR: %d studies, direct import: %d", len(a), len(b))
	}
	for i := range a {
		if a[i].StudyInstanceUID != b[i].StudyInstanceUID || a[i].NumberOfInstances != b[i].NumberOfInstances || a[i].Source != "shared" {
			t.Errorf("study %d: DICOMDIR %+v, direct %+v", i, a[i], b[i])
		}
	}
}

// TestOpenDICOMwebOrthanc: `teleread open` on a study URL of a private
// Orthanc with basic authentication caches the study, which still renders
// after Orthanc is stopped.
func TestOpenDICOMwebOrthanc(t *testing.T) {
	requireCorpus(t)
	srv := orthanctest.New(t, orthanctest.Options{Users: map[string]string{"consult": "s3cret"}})
	src := filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm")
	srv.MustUploadFiles(t, src)
	const study = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
	home := t.TempDir()
	url := srv.DICOMwebURL + "/studies/" + study
	if r := telereadEnv(t, home, []string{"TELEREAD_ARCHIVE=" + srv.DICOMwebURL, "TELEREAD_USER=consult", "TELEREAD_PASSWORD=wrong"}, "open", "--no-app", url); r.code == 0 {
		t.Errorf("open with a wrong password succeeded:\n%s", r.stdout)
	}
	r := telereadEnv(t, home, []string{"TELEREAD_ARCHIVE=" + srv.DICOMwebURL, "TELEREAD_USER=consult", "TELEREAD_PASSWORD=s3cret"}, "open", "--no-app", url)
	if r.code != 0 {
		t.Fatalf("open: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := studiesOf(t, home)
	if len(got) != 1 || got[0].StudyInstanceUID != study || got[0].NumberOfInstances != 1 || got[0].Source != "shared" {
		t.Fatalf("studies %+v", got)
	}
	srv.Stop()

	c, err := cache.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	insts, err := c.StudyInstances(study)
	c.Close()
	if err != nil || len(insts) != 1 {
		t.Fatalf("instances: %v %d", err, len(insts))
	}
	out := filepath.Join(t.TempDir(), "frame.pgm")
	if r := teleread(t, home, "render", insts[0].Path, "--renderer", "cpu", "-o", out); r.code != 0 {
		t.Fatalf("render offline: %d %s", r.code, r.stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("render wrote nothing: %v", err)
	}
}

// TestOpenBearerToken: with --token-file the token is sent as an
// Authorization: Bearer header (checked by a stand-in, since Orthanc has no
// token check), and the study is cached.
func TestOpenBearerToken(t *testing.T) {
	requireCorpus(t)
	body, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var auths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		const b = "BOUNDARY42"
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+b)
		fmt.Fprintf(w, "--%s\r\nContent-Type: application/dicom\r\n\r\n", b)
		w.Write(body)
		fmt.Fprintf(w, "\r\n--%s--\r\n", b)
	}))
	defer ts.Close()
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	const study = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	r := teleread(t, home, "open", "--no-app", ts.URL+"/dicom-web/studies/"+study, "--token-file", tok)
	if r.code != 0 {
		t.Fatalf("open: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auths) == 0 || auths[0] != "Bearer tok-123" {
		t.Errorf("Authorization headers %q", auths)
	}
	if got := studiesOf(t, home); len(got) != 1 || got[0].StudyInstanceUID != study || got[0].Source != "shared" {
		t.Errorf("studies %+v", got)
	}
}

// TestExportStowOrthanc: `teleread export --deidentify --stow` stores the
// de-identified copy of a three-instance series carrying recognisable
// identifying values in another archive, which then holds exactly three
// instances of one study: none with an original UID or identifying value,
// all marked Patient Identity Removed, study and series UIDs replaced the same
// way in each, the SOP Instance UIDs new and distinct.
func TestExportStowOrthanc(t *testing.T) {
	requireCorpus(t)
	needTools(t, "dcmodify")
	const n = 3
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "mr_small_explicit_le.dcm"), t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	phi := map[string]string{
		"(0010,0010)": "STOWTEST^PATIENT",      // Patient's Name
		"(0010,0020)": "STOWPID12345",          // Patient ID
		"(0010,0030)": "19450317",              // Patient's Birth Date
		"(0008,0080)": "STOW GENERAL HOSPITAL", // Institution Name
		"(0008,0090)": "REFERRER^STOWDOCTOR",   // Referring Physician's Name
		"(0008,0050)": "STOWACC98765",          // Accession Number
		"(0010,1000)": "STOWOTHERID77",         // Other Patient IDs
		"(0010,1040)": "1 STOW STREET",         // Patient's Address
	}
	for _, p := range paths {
		args := []string{"-nb"}
		for k, v := range phi {
			args = append(args, "-i", k+"="+v)
		}
		if out, err := exec.Command("dcmodify", append(args, p)...).CombinedOutput(); err != nil {
			t.Fatalf("dcmodify: %v\n%s", err, out)
		}
	}
	// What must not reach the archive: the values above and every UID that
	// names this patient's study, series and instances.
	secret := map[string]bool{}
	for _, v := range phi {
		secret[v] = true
	}
	for _, p := range paths {
		f, err := dataset.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range []dataset.Tag{dataset.SOPInstanceUID, dataset.StudyInstanceUID, dataset.SeriesInstanceUID, 0x00200052} {
			secret[f.String(tag)] = true
		}
		f.Close()
	}

	srv := orthanctest.New(t, orthanctest.Options{})
	home := t.TempDir()
	if r := teleread(t, home, "import", "-q", filepath.Dir(paths[0])); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	const study = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"
	zp := filepath.Join(t.TempDir(), "out.zip")
	r := teleread(t, home, "export", "--deidentify", "--include-burned-in", study, "-o", zp, "--stow", srv.DICOMwebURL)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("stored %d instances", n)) {
		t.Fatalf("export --stow: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	b, err := srv.Get("/instances")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		t.Fatalf("/instances: %v\n%s", err, b)
	}
	if len(ids) != n {
		t.Fatalf("the archive holds %d instances, want the %d exported", len(ids), n)
	}
	sops := map[string]bool{}
	studies, series := map[string]bool{}, map[string]bool{}
	for _, id := range ids {
		raw, err := srv.InstanceFile(id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dataset.ParseBytes(raw, id)
		if err != nil {
			t.Fatalf("stored instance %s: %v", id, err)
		}
		for s := range secret {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("stored instance %s holds the original value %q", id, s)
			}
		}
		if got := f.String(0x00120062); got != "YES" {
			t.Errorf("stored instance %s: Patient Identity Removed %q", id, got)
		}
		sop := f.String(dataset.SOPInstanceUID)
		if !strings.HasPrefix(sop, "2.25.") || sops[sop] {
			t.Errorf("stored SOP Instance UID %q: not a new UID, or twice", sop)
		}
		sops[sop] = true
		studies[f.String(dataset.StudyInstanceUID)] = true
		series[f.String(dataset.SeriesInstanceUID)] = true
	}
	if len(studies) != 1 || len(series) != 1 {
		t.Errorf("stored instances name %d studies and %d series, want one of each (UIDs replaced consistently)", len(studies), len(series))
	}
	for uid := range studies {
		if !strings.HasPrefix(uid, "2.25.") {
			t.Errorf("stored Study Instance UID %q is not a new UID", uid)
		}
	}
}

// TestExportDeidentifyNoPHI writes a patient's name into the Patient's Name,
// the Series Description and an SR TEXT content item of a corpus image that
// has no Burned In Annotation: `export --deidentify` leaves the image out and
// says so without printing the description; with --include-burned-in the
// export holds none of the values anywhere in its bytes, and prints none.
func TestExportDeidentifyNoPHI(t *testing.T) {
	requireCorpus(t)
	needTools(t, "dcmodify", "dcmdump")
	p := filepath.Join(t.TempDir(), "phi.dcm")
	b, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	phi := []string{"DOE^JOHNATHAN", "series with Doe Johnathan", "Doe Johnathan has a fracture"}
	args := []string{"-nb", "-i", "(0010,0010)=" + phi[0], "-i", "(0008,103E)=" + phi[1],
		"-i", "(0040,A730)[0].(0040,A010)=CONTAINS", "-i", "(0040,A730)[0].(0040,A040)=TEXT",
		"-i", "(0040,A730)[0].(0040,A160)=" + phi[2], p}
	if out, err := exec.Command("dcmodify", args...).CombinedOutput(); err != nil {
		t.Fatalf("dcmodify: %v\n%s", err, out)
	}
	if out, _ := exec.Command("dcmdump", "+P", "0028,0301", p).CombinedOutput(); len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("the test file has a Burned In Annotation: %s", out)
	}
	home := t.TempDir()
	if r := teleread(t, home, "import", "-q", p); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	st := studiesOf(t, home)
	if len(st) != 1 {
		t.Fatalf("%d studies", len(st))
	}
	noPHI := func(what string, b []byte) {
		t.Helper()
		for _, s := range append(phi, "Johnathan", "JOHNATHAN") {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", what, s)
			}
		}
	}

	zp := filepath.Join(t.TempDir(), "out.zip")
	r := teleread(t, home, "export", "--deidentify", st[0].StudyInstanceUID, "-o", zp)
	if r.code == 0 || !strings.Contains(r.stdout, "left out: 1 images whose Burned In Annotation is absent or YES") {
		t.Errorf("export without --include-burned-in: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	noPHI("the summary", []byte(r.stdout+r.stderr))

	r = teleread(t, home, "export", "--deidentify", "--include-burned-in", st[0].StudyInstanceUID, "-o", zp)
	if r.code != 0 {
		t.Fatalf("export: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	noPHI("the summary", []byte(r.stdout+r.stderr))
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 2 {
		t.Fatalf("%d files in the zip, want an image and a DICOMDIR", len(zr.File))
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		noPHI(zf.Name, data)
	}
}

// TestExportCleanPixelsCLI: `export --deidentify --clean-pixels` cleans the
// ultrasound image that has regions, leaves out the one without (naming the
// reason, not the patient), and the flags are checked before anything runs.
func TestExportCleanPixelsCLI(t *testing.T) {
	requireCorpus(t)
	home := t.TempDir()
	withRegions := filepath.Join(corpusDir, "files", "us_palette_segmented_lut.dcm")
	without := filepath.Join(corpusDir, "files", "us_rgb_planar1.dcm")
	if r := teleread(t, home, "import", "-q", withRegions, without); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	var uids []string
	for _, s := range studiesOf(t, home) {
		uids = append(uids, s.StudyInstanceUID)
	}
	zp := filepath.Join(t.TempDir(), "out.zip")
	tests := []struct {
		args     []string
		wantCode int
		want     []string
	}{
		{append([]string{"export", "--deidentify", "--clean-pixels", "-o", zp}, uids...), 0,
			[]string{"pixels cleaned in 1 images", "exported 1 instances",
				"left out: 1 images whose Burned In Annotation is absent or YES and whose pixels could not be cleaned safely",
				"ultrasound image without a Sequence of Ultrasound Regions"}},
		{append([]string{"export", "--clean-pixels", "-o", zp}, uids...), 2, []string{"need --deidentify"}},
		{append([]string{"export", "--deidentify", "--clean-pixels", "--clean-band", "0", "-o", zp}, uids...), 2, []string{"--clean-band"}},
	}
	for _, tt := range tests {
		r := teleread(t, home, tt.args...)
		out := r.stdout + r.stderr
		if r.code != tt.wantCode {
			t.Errorf("%v: exit %d, want %d\n%s", tt.args[:len(tt.args)-len(uids)], r.code, tt.wantCode, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output does not say %q\n%s", tt.args[:len(tt.args)-len(uids)], w, out)
			}
		}
		if strings.Contains(out, "Anonymized") || strings.Contains(out, "NAME^PATIENT") {
			t.Errorf("the summary names the patient: %s", out)
		}
	}
}
