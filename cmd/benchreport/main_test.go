package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReport runs each section on tiny sizes so that the report keeps
// compiling and working; it checks what is printed, never how fast anything
// is. Under CI=true a figure printed as n/a (a missing tool, corpus or
// archive) fails the sections that must work everywhere.
func TestReport(t *testing.T) {
	if _, err := os.Stat(filepath.Join(defaultCorpus(), "MANIFEST.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus: %v", err)
		}
		t.Skipf("corpus: %v", err)
	}
	tiny := []string{"-runs", "1", "-mintime", "1ms"}
	tests := []struct {
		name   string
		args   []string
		want   []string
		strict bool // under CI=true no n/a may appear
	}{
		{"import", []string{"-only", "import", "-n", "10"},
			[]string{"== Import", "full durable import", "metadata parse only", "dcmdump"}, true},
		{"decode", []string{"-only", "decode", "-files", "mr_small_rle,ct2_jpeg_lossless_sv1"},
			[]string{"== Decode", "RLE Lossless", "JPEG Lossless SV1 (.70)", "GDCM library"}, true},
		{"render", []string{"-only", "render"},
			[]string{"== CPU render", "512x512 CT into 512x512 grey", "2048x2048 (tiled CT) into 2048x2048 grey"}, true},
		{"retrieve", []string{"-only", "retrieve", "-n", "10", "-series", "2"},
			[]string{"== Retrieve", "puller into a fresh cache", "RetrieveStudy + cache.Import", "curl"}, true},
		// The figures need a teleread_bench build (make bench); a plain
		// build says so.
		{"seal", []string{"-only", "seal", "-n", "6"},
			[]string{"== Encryption at rest"}, false},
		{"renderers", []string{"-only", "gpu,app", "-cineframes", "2"},
			[]string{"== GPU and CPU renderers", "GL: ", "W/L 512x512 CT into 512x512", "cine 640x480 RGB", "== App"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			start := time.Now()
			if code := run(append(tc.args, tiny...), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			t.Logf("took %v:\n%s", time.Since(start).Round(time.Millisecond), out.String())
			got := out.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if tc.strict && os.Getenv("CI") == "true" && strings.Contains(got, "n/a (") {
				t.Errorf("a figure is n/a under CI=true (a dependency is missing)")
			}
		})
	}
}

func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown section", []string{"-only", "nosuch"}},
		{"zero runs", []string{"-runs", "0"}},
		{"more series than instances", []string{"-n", "2", "-series", "3"}},
		{"stray argument", []string{"extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut.String())
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{5}, 5},
		{"odd, unsorted", []time.Duration{9, 1, 5}, 5},
		{"even: mean of the middle two", []time.Duration{4, 1, 10, 2}, 3},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("%s: median(%v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"thousands", thousands(1234567), "1,234,567"},
		{"small thousands", thousands(999), "999"},
		{"rate", rate(300, 150*time.Millisecond, "inst"), "2,000 inst/s"},
		{"rate below ten", rate(3, time.Second, "fr"), "3.00 fr/s"},
		{"ratio", ratio(2, 1), "2.00x"},
		{"ratio without a peer", ratio(2, 0), "n/a"},
		{"ms", ms(1500 * time.Microsecond), "1.50 ms"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
