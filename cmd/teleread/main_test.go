package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"teleread/internal/corpustest"
)

const corpusDir = "../../testdata/corpus"

var binPath string

// TestMain builds the teleread binary once: these tests run it as a user would,
// including killing it with SIGKILL.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "teleread-bin")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "teleread")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build teleread: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
	maxRSSKiB      int64
}

func teleread(t *testing.T, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--home", home}, args...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	cmd.Env = append(os.Environ(), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"))
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

// corpusInfo returns an entry's info block as the manifest writes it (values
// as encoding/json decodes them into any).
func corpusInfo(t *testing.T, e *corpustest.Entry) map[string]any {
	t.Helper()
	var raw struct {
		Info map[string]any `json:"info"`
	}
	if err := e.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	return raw.Info
}

func requireCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(corpusDir, "MANIFEST.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// TestImportCorpusCLI: `teleread import` follows each manifest entry's import
// expectation, names every rejected file with a reason, exits non-zero, and a
// second import finds everything already present.
func TestImportCorpusCLI(t *testing.T) {
	requireCorpus(t)
	home := t.TempDir()
	r := teleread(t, home, "import", filepath.Join(corpusDir, "files"))
	if r.code == 0 {
		t.Errorf("exit 0 although broken files were rejected")
	}
	for _, e := range corpustest.Manifest(t, corpusDir) {
		line := fmt.Sprintf("rejected: %q: ", filepath.Join(corpusDir, "files", filepath.Base(e.File)))
		rejected := strings.Contains(r.stdout, line)
		switch e.Expectation.Import {
		case "accept":
			if rejected {
				t.Errorf("%s rejected, want accepted", e.ID)
			}
		case "reject":
			if !rejected {
				t.Errorf("%s not rejected", e.ID)
			}
		}
	}
	var studies []struct {
		StudyInstanceUID  string
		NumberOfInstances int
	}
	s := teleread(t, home, "studies", "--json")
	if err := json.Unmarshal([]byte(s.stdout), &studies); err != nil || len(studies) == 0 {
		t.Fatalf("studies --json: %v %q", err, s.stdout)
	}
	again := teleread(t, home, "import", filepath.Join(corpusDir, "files"))
	if !strings.Contains(again.stdout, "imported 0,") {
		t.Errorf("second import imported something: %s", lastLine(again.stdout))
	}
	if v := teleread(t, home, "verify"); v.code != 0 {
		t.Errorf("verify: %s", v.stdout)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestHugeDeclaredLength: a 184-byte file that declares a 1 GiB value is
// rejected with a clear reason, in well under 100 MB of memory.
func TestHugeDeclaredLength(t *testing.T) {
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	ts := "1.2.840.10008.1.2.1\x00"
	b.Write([]byte{0x02, 0x00, 0x10, 0x00, 'U', 'I'})
	binary.Write(&b, binary.LittleEndian, uint16(len(ts)))
	b.WriteString(ts)
	b.Write([]byte{0x10, 0x00, 0x10, 0x00, 'P', 'N', 4, 0})
	b.WriteString("A^B ")
	b.Write([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0})
	binary.Write(&b, binary.LittleEndian, uint32(1<<30))
	b.Write(make([]byte, 184-b.Len()))
	p := filepath.Join(t.TempDir(), "huge.dcm")
	os.WriteFile(p, b.Bytes(), 0o644)

	r := teleread(t, t.TempDir(), "import", p)
	if r.code == 0 || !strings.Contains(r.stdout, fmt.Sprintf("rejected: %q", p)) || !strings.Contains(r.stdout, "exceeds") {
		t.Fatalf("want a rejection naming the file and the length:\n%s", r.stdout)
	}
	if r.maxRSSKiB > 100*1024 {
		t.Fatalf("peak memory %d KiB, want under 100 MB", r.maxRSSKiB)
	}
	if i := teleread(t, t.TempDir(), "info", p); i.code == 0 {
		t.Fatal("info accepted the file")
	}
}

// TestInfoJSON compares `info --json` with the manifest's info block for a file
// of each encoding family (the parser's own test covers every file).
func TestInfoJSON(t *testing.T) {
	requireCorpus(t)
	want := map[string]bool{"cr_mono1_chest_nometa": true, "mr_small_big_endian": true, "image_deflate_sc": true, "rgb_jpegls_ilv0": true}
	for _, e := range corpustest.Manifest(t, corpusDir) {
		if !want[e.ID] {
			continue
		}
		r := teleread(t, t.TempDir(), "info", "--json", filepath.Join(corpusDir, e.File))
		var got map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%s: %v %s", e.ID, err, r.stderr)
		}
		for k, v := range corpusInfo(t, &e) {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", e.ID, k, got[k], v)
			}
		}
	}
}

// TestReportCLI signs a report from the command line and checks the exported SR
// with the standard's validators.
func TestReportCLI(t *testing.T) {
	requireCorpus(t)
	for _, tool := range []string{"dciodvfy", "dsrdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing", tool)
			}
			t.Skip(err)
		}
	}
	home := t.TempDir()
	teleread(t, home, "import", filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	study := "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	r := teleread(t, home, "report", "--study", study, "--findings", "Müller, 5 mm Läsion, 肺", "--impression", "Stable.", "--sign")
	if r.code != 0 {
		t.Fatalf("sign: %s %s", r.stdout, r.stderr)
	}
	// Refused with a message and exit status 1 (an earlier version of the
	// error helper called itself and died of stack overflow instead).
	if r := teleread(t, home, "report", "--study", study, "--findings", "changed"); r.code != 1 || !strings.Contains(r.stderr, "teleread: ") {
		t.Errorf("editing a signed report: exit %d, stderr %q; want exit 1 with a message", r.code, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "sr.dcm")
	if r := teleread(t, home, "report", "--study", study, "--export", out); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("exported SR: %v, mode %v; want 0600 (it holds the patient's name)", err, st.Mode())
	}
	v, _ := exec.Command("dciodvfy", out).CombinedOutput()
	for _, l := range strings.Split(string(v), "\n") {
		if strings.HasPrefix(l, "Error") {
			t.Errorf("dciodvfy: %s", l)
		}
	}
	d, err := exec.Command("dsrdump", out).CombinedOutput()
	if err != nil || !strings.Contains(string(d), "Müller, 5 mm Läsion, 肺") {
		t.Errorf("dsrdump: %v\n%s", err, d)
	}
	o := teleread(t, home, "outbox", "--json")
	var items []struct{ State string }
	json.Unmarshal([]byte(o.stdout), &items)
	if len(items) != 1 || items[0].State != "pending" {
		t.Errorf("outbox: %s", o.stdout)
	}
}

// TestRenderCLI renders files of several kinds to each output format and
// compares with the corpus reference display: exactly where the reference
// rounds nothing (RGB passed through), within 1 where it computes a window,
// and with no bias (mean signed difference under 0.05) either way.
func TestRenderCLI(t *testing.T) {
	requireCorpus(t)
	tests := []struct {
		id, ext string
		rgb     bool
		tol     int
	}{
		{"ct_small_explicit_le", ".pgm", false, 1},
		{"cr_mono1_chest_nometa", ".pgm", false, 1},
		{"us_rgb_planar1", ".ppm", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out"+tt.ext)
			r := teleread(t, t.TempDir(), "render", filepath.Join(corpusDir, "files", tt.id+".dcm"), "--renderer", "cpu", "-o", out)
			if r.code != 0 {
				t.Fatalf("render: %s", r.stderr)
			}
			got, _ := os.ReadFile(out)
			ref, err := os.ReadFile(filepath.Join(corpusDir, "refs", tt.id+".display0.u8.raw"))
			if err != nil {
				t.Fatal(err)
			}
			// PNM: three header lines, then the samples.
			parts := bytes.SplitN(got, []byte("\n"), 4)
			if len(parts) != 4 || len(parts[3]) != len(ref) {
				t.Fatalf("output has %d sample bytes, reference %d", len(parts[len(parts)-1]), len(ref))
			}
			sum := 0
			for i := range ref {
				d := int(parts[3][i]) - int(ref[i])
				if d > tt.tol || d < -tt.tol {
					t.Fatalf("sample %d: %d, reference %d (allowed %d)", i, parts[3][i], ref[i], tt.tol)
				}
				sum += d
			}
			if b := float64(sum) / float64(len(ref)); math.Abs(b) >= 0.05 {
				t.Errorf("samples differ from the reference by %+.4f on average: a rounding bias", b)
			}
		})
	}
	if r := teleread(t, t.TempDir(), "render", filepath.Join(corpusDir, "files", "broken_mr_truncated.dcm"), "-o", filepath.Join(t.TempDir(), "x.png")); r.code == 0 || r.stderr == "" {
		t.Errorf("broken file rendered without an error")
	}
}

// TestRenderGPUMatchesCPU: for every corpus file that renders, `render
// --renderer gpu` equals `render --renderer cpu` within 1 on every sample,
// with no bias (mean signed difference under 0.05).
func TestRenderGPUMatchesCPU(t *testing.T) {
	requireCorpus(t)
	dir := t.TempDir()
	for _, e := range corpustest.Manifest(t, corpusDir) {
		if e.Expectation.Render != "reference" {
			continue
		}
		src := filepath.Join(corpusDir, e.File)
		cpu, gpu := filepath.Join(dir, e.ID+".cpu.png"), filepath.Join(dir, e.ID+".gpu.png")
		if r := teleread(t, dir, "render", src, "--renderer", "cpu", "-o", cpu); r.code != 0 {
			t.Errorf("%s: cpu: %s", e.ID, r.stderr)
			continue
		}
		r := teleread(t, dir, "render", src, "--renderer", "gpu", "-o", gpu)
		if r.code != 0 {
			t.Fatalf("%s: gpu: %s", e.ID, r.stderr)
		}
		a, b := readPNG(t, cpu), readPNG(t, gpu)
		if !a.Bounds().Eq(b.Bounds()) {
			t.Errorf("%s: sizes %v and %v", e.ID, a.Bounds(), b.Bounds())
			continue
		}
		sum, n := 0, 0
		for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
			for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
				r1, g1, b1, _ := a.At(x, y).RGBA()
				r2, g2, b2, _ := b.At(x, y).RGBA()
				if diff8(r1, r2) > 1 || diff8(g1, g2) > 1 || diff8(b1, b2) > 1 {
					t.Fatalf("%s: pixel (%d,%d) cpu %v gpu %v", e.ID, x, y, a.At(x, y), b.At(x, y))
				}
				sum += int(r2>>8) - int(r1>>8) + int(g2>>8) - int(g1>>8) + int(b2>>8) - int(b1>>8)
				n += 3
			}
		}
		if bias := float64(sum) / float64(n); math.Abs(bias) >= 0.05 {
			t.Errorf("%s: gpu differs from cpu by %+.4f on average: a rounding bias", e.ID, bias)
		}
	}
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func diff8(a, b uint32) int {
	d := int(a>>8) - int(b>>8)
	if d < 0 {
		return -d
	}
	return d
}

func TestFromLink(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"teleread://pacs.example.org/dicom-web/studies/1.2.3", "https://pacs.example.org/dicom-web/studies/1.2.3", false},
		{"teleread://open?url=http%3A%2F%2F127.0.0.1%3A8042%2Fdicom-web%2Fstudies%2F1.2.3", "http://127.0.0.1:8042/dicom-web/studies/1.2.3", false},
		{"/media/cdrom/DICOMDIR", "/media/cdrom/DICOMDIR", false},
		// A link may carry only an http(s) URL: /dev/zero through one wrote 5.7 GB to tmp/.
		{"teleread://open?url=/dev/zero", "", true},
		{"teleread://open?url=file%3A%2F%2F%2Fetc%2Fpasswd", "", true},
		{"teleread://open?url=", "", true},
	}
	for _, tt := range tests {
		got, err := fromLink(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("fromLink(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
