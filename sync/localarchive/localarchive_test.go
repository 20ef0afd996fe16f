package localarchive

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requireOrthanc skips (fails under CI=true) when Orthanc is not installed.
func requireOrthanc(t *testing.T) {
	t.Helper()
	if _, _, err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// TestAvailableNamesWhatIsMissing: an override pointing nowhere is reported
// as not installed (the demo falls back to importing the samples on that
// error), naming the part that is missing.
func TestAvailableNamesWhatIsMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	tests := []struct {
		name, env, want string
	}{
		{"binary", EnvBinary, "no Orthanc executable"},
		{"plugin", EnvPlugin, "no libOrthancDicomWeb.so"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env == EnvPlugin {
				requireOrthanc(t) // the binary must be found for the plugin to be looked at
			}
			t.Setenv(tt.env, missing)
			_, _, err := Available()
			if !errors.Is(err, ErrNotInstalled) {
				t.Fatalf("Available with %s=%s: %v, want ErrNotInstalled", tt.env, missing, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if _, err := Start(t.TempDir(), Options{}); !errors.Is(err, ErrNotInstalled) {
				t.Errorf("Start: %v, want ErrNotInstalled", err)
			}
		})
	}
}

// TestStartSeedStop is the first run's life: start in a folder, store a study,
// copy it assigned to a reader, stop, start again on the same folder and find
// both studies there.
func TestStartSeedStop(t *testing.T) {
	requireOrthanc(t)
	dir := t.TempDir()
	s, err := Start(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.DICOMwebURL != s.URL+"/dicom-web" {
		t.Errorf("URL %q, DICOMweb %q: want a loopback URL and its /dicom-web", s.URL, s.DICOMwebURL)
	}
	src := filepath.Join("..", "..", "testdata", "corpus", "files", "ct_small_explicit_le.dcm")
	inst, err := s.UploadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Get("/studies/" + inst.ParentStudy)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	copyUID, err := s.CopyStudy(st.MainDicomTags.StudyInstanceUID, map[string]string{"NameOfPhysiciansReadingStudy": "Demo^Reader"})
	if err != nil {
		t.Fatal(err)
	}
	if copyUID == "" || copyUID == st.MainDicomTags.StudyInstanceUID {
		t.Fatalf("copy's Study Instance UID %q: want a new one", copyUID)
	}
	s.Stop()
	if s.Running() {
		t.Fatal("running after Stop")
	}

	again, err := Start(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	for _, uid := range []string{st.MainDicomTags.StudyInstanceUID, copyUID} {
		ids, err := again.StudyIDs(uid)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 {
			t.Errorf("study %s after a restart on the same folder: %d Orthanc studies, want 1", uid, len(ids))
		}
	}
}
