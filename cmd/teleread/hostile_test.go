package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/viewer/dataset/hostiletest"
)

// maxHostileRSSKiB is what info, import, render and sync may take for any
// crafted input, whatever it declares.
const maxHostileRSSKiB = 300 << 10

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../../testdata/hostile"

// writeHostile writes a generated crafted file into dir.
func writeHostile(t *testing.T, dir, name string, write func(io.Writer) error) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostileInput is one crafted input and what every command must say of it.
type hostileInput struct {
	name string
	path string
	want string // in the error of every command that refuses it
	// renderOnly: the file is well formed, its code stream is not; only
	// decoding finds it, so info, import and sync accept it.
	renderOnly bool
}

// hostileInputs returns every file of testdata/hostile (hostiletest.Files
// is that folder, its own test says so) and the big crafted ones, written
// into dir: a test that forgets a crafted file fails here.
func hostileInputs(t *testing.T, dir string) []hostileInput {
	t.Helper()
	want := map[string]hostileInput{
		"rows_overflow_is.dcm":    {want: "out of range"},
		"rows_cols_wrap.dcm":      {want: "out of range"},
		"rows_negative.dcm":       {want: "out of range"},
		"frames_huge.dcm":         {want: "out of range"},
		"frames_encapsulated.dcm": {want: "out of range"},
		"j2k_components.dcm":      {want: "does not match", renderOnly: true},
		"j2k_size.dcm":            {want: "does not match", renderOnly: true},
		"j2k_tiles.dcm":           {want: "tiles", renderOnly: true},
		"jpegls_size.dcm":         {want: "does not match", renderOnly: true},
		"jpeg_size.dcm":           {want: "does not match", renderOnly: true},
	}
	var in []hostileInput
	for _, f := range hostiletest.Files() {
		h, ok := want[f.Name]
		if !ok {
			t.Fatalf("%s in testdata/hostile has no expectation here", f.Name)
		}
		h.name, h.path = f.Name, filepath.Join(hostileDir, f.Name)
		in = append(in, h)
	}
	for _, g := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"bomb128.dcm", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 128<<20) }},
		{"bomb1g.dcm", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 1<<30) }},
		{"zeros.dcm", func(w io.Writer) error { return hostiletest.DeflatedZeros(w, 128<<20) }},
		{"elements.dcm", func(w io.Writer) error { return hostiletest.ZeroLengthElements(w, 64<<20) }},
	} {
		in = append(in, hostileInput{name: g.name, path: writeHostile(t, dir, g.name, g.write), want: "memory budget"})
	}
	return in
}

// TestHostileFilesCLI runs info, import, render and sync --once (from an
// archive that sends the file as the study's one instance) on every crafted
// file, as a user would: each is refused with its reason (never a panic,
// exit status 1), and the process's peak RSS (getrusage of the child) stays
// under 300 MB. Before: Rows x Columns that wrapped panicked in render; a
// 131 KB deflate bomb took 1.9 GB in info and 2.2 GB in import, a 1 MB one
// ran out of memory; 64 MB of empty elements took 932 MB on import; a JPEG
// 2000 SIZ of 16384 components asked OpenJPEG for 6 GB.
func TestHostileFilesCLI(t *testing.T) {
	for _, tt := range hostileInputs(t, t.TempDir()) {
		for _, cmd := range []string{"info", "import", "render", "sync"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				home := t.TempDir()
				var args []string
				switch cmd {
				case "render":
					args = []string{"render", "-o", filepath.Join(t.TempDir(), "x.png"), tt.path}
				case "sync":
					srv := httptest.NewServer(fileArchive(t, tt.path))
					defer srv.Close()
					args = []string{"sync", "--once", "--archive", srv.URL, "--reader", "Doe^Jane", "--priors", "0"}
				default:
					args = []string{cmd, tt.path}
				}
				r := teleread(t, home, args...)
				out := r.stdout + r.stderr
				if strings.Contains(out, "panic") {
					t.Errorf("output %q", out)
				}
				refused := cmd == "render" || !tt.renderOnly
				if refused && (r.code != 1 || !strings.Contains(out, tt.want)) {
					t.Errorf("exit %d, output %q; want exit 1 and %q", r.code, out, tt.want)
				}
				if !refused && cmd != "sync" && r.code != 0 {
					t.Errorf("exit %d, output %q; want it accepted (only decoding finds the fault)", r.code, out)
				}
				if r.maxRSSKiB > maxHostileRSSKiB {
					t.Errorf("peak RSS %d MiB, want under %d", r.maxRSSKiB>>10, maxHostileRSSKiB>>10)
				}
				t.Logf("peak RSS %d MiB", r.maxRSSKiB>>10)
			})
		}
	}
}

// fileArchive answers QIDO with one study of one instance assigned to
// Doe^Jane and its retrieve with the file at path as the one part.
func fileArchive(t *testing.T, path string) http.HandlerFunc {
	t.Helper()
	one := fmt.Sprintf(`[{"0020000D":{"vr":"UI","Value":[%q]},"0020000E":{"vr":"UI","Value":[%q]},`+
		`"00080018":{"vr":"UI","Value":["2.25.140000000000000000000000000000001000"]},`+
		`"00081060":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},"00201208":{"vr":"IS","Value":[1]},`+
		`"00201206":{"vr":"IS","Value":[1]},"00201209":{"vr":"IS","Value":[1]}}]`, hostiletest.StudyUID, hostiletest.SeriesUID)
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/studies") || strings.HasSuffix(r.URL.Path, "/series") || strings.HasSuffix(r.URL.Path, "/instances") {
			w.Header().Set("Content-Type", "application/dicom+json")
			io.WriteString(w, one)
			return
		}
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
		io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n\r\n")
		io.Copy(w, f)
		io.WriteString(w, "\r\n--b--\r\n")
	}
}
