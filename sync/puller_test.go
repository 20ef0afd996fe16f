package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	gosync "sync"
	"testing"

	"teleread/sync/orthanctest"
	"teleread/viewer/dataset"
)

// memStore is a Store for the puller's tests: files written atomically in a
// directory, the worklist in memory. (The real one is the cache.)
type memStore struct {
	dir string

	mu      gosync.Mutex
	files   map[string]string // SOP Instance UID -> path
	order   []string          // SOP Instance UIDs in the order stored
	studyOf map[string]string // SOP -> study
	items   map[string]workItem
	states  map[string][]string // study -> states in order
	after   func(n int)         // called after the n-th store (fault tests)
}

type workItem struct {
	reader, role, priorOf string
	priority              int
	fields                map[string]string
	state                 string
	done, total           int
	reason                string
}

func newMemStore(t *testing.T) *memStore {
	return &memStore{dir: t.TempDir(), files: map[string]string{}, studyOf: map[string]string{},
		items: map[string]workItem{}, states: map[string][]string{}}
}

func (m *memStore) HasInstance(sop string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.files[sop]
	return ok, nil
}

func (m *memStore) StoreInstance(r io.Reader, name string) (string, error) {
	tmp, err := os.CreateTemp(m.dir, "part-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, r)
	if err != nil {
		return "", fmt.Errorf("store %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	f, err := dataset.Parse(tmp, n, name)
	if err != nil {
		return "", err
	}
	sop := f.String(dataset.SOPInstanceUID)
	if !ValidUID(sop) {
		return "", fmt.Errorf("store %s: bad SOP Instance UID %q", name, sop)
	}
	final := filepath.Join(m.dir, sop+".dcm")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	m.mu.Lock()
	m.files[sop] = final
	m.order = append(m.order, sop)
	m.studyOf[sop] = f.String(dataset.StudyInstanceUID)
	count, after := len(m.order), m.after
	m.mu.Unlock()
	if after != nil {
		after(count)
	}
	return sop, nil
}

func (m *memStore) PutWorkItem(study, reader, role, priorOf string, priority int, fields map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[study]
	if !ok {
		it.state = StateAssigned
	}
	it.reader, it.role, it.priorOf, it.priority, it.fields = reader, role, priorOf, priority, fields
	m.items[study] = it
	return nil
}

func (m *memStore) SetStudyState(study, state string, done, total int, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[study]
	it.state, it.done, it.total, it.reason = state, done, total, reason
	m.items[study] = it
	m.states[study] = append(m.states[study], state)
	return nil
}

func (m *memStore) UnassignOthers(reader string, keep []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for uid, it := range m.items {
		if it.reader == reader && it.role == "assigned" && !slices.Contains(keep, uid) {
			it.state = "unassigned"
			m.items[uid] = it
		}
	}
	return nil
}

func (m *memStore) forget(sop string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	os.Remove(m.files[sop])
	delete(m.files, sop)
}

// modifyStudy makes Orthanc store a modified copy of a study (new UIDs) and
// returns the new Study Instance UID.
func modifyStudy(t *testing.T, srv *orthanctest.Server, studyUID string, replace map[string]string) string {
	t.Helper()
	ids := lookupStudy(t, srv, studyUID)
	if len(ids) != 1 {
		t.Fatalf("study %s: %d Orthanc studies", studyUID, len(ids))
	}
	body, _ := json.Marshal(map[string]any{"Replace": replace, "Force": true})
	b, err := srv.Post("/studies/"+ids[0]+"/modify", body)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ ID string }
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	b, err = srv.Get("/studies/" + res.ID)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st.MainDicomTags.StudyInstanceUID
}

// orthancFiles returns SOP Instance UID -> SHA-256 of what Orthanc stores
// for the given studies.
func orthancFiles(t *testing.T, srv *orthanctest.Server, studies ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, uid := range studies {
		for _, sid := range lookupStudy(t, srv, uid) {
			b, err := srv.Get("/studies/" + sid + "/instances")
			if err != nil {
				t.Fatal(err)
			}
			var insts []struct {
				ID            string
				MainDicomTags struct{ SOPInstanceUID string }
			}
			if err := json.Unmarshal(b, &insts); err != nil {
				t.Fatal(err)
			}
			for _, in := range insts {
				f, err := srv.InstanceFile(in.ID)
				if err != nil {
					t.Fatal(err)
				}
				out[in.MainDicomTags.SOPInstanceUID] = sha(f)
			}
		}
	}
	return out
}

func TestPullWorklistWithPriorsOrthanc(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	for _, id := range []string{"ct2_j2k_lossy", "ct2_jpeg_lossless_sv1", "ct2_jpegls_near_lossless",
		"ct_small_explicit_le", "parametric_map_float32", "mr1_jpeg_extended_wg04", "mr_small_rle", "nm1_jpeg_extended_fixed"} {
		if _, err := srv.UploadFile(corpusPath(man[id])); err != nil {
			t.Fatal(err)
		}
	}
	ct2 := man["ct2_j2k_lossy"].Info.StudyInstanceUID
	ct1 := man["ct_small_explicit_le"].Info.StudyInstanceUID
	mr1 := man["mr1_jpeg_extended_wg04"].Info.StudyInstanceUID
	a1 := modifyStudy(t, srv, ct2, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^A", "StudyDate": "20240101"})
	a2 := modifyStudy(t, srv, mr1, map[string]string{"NameOfPhysiciansReadingStudy": `Other^X\Reader^A`, "StudyDate": "20230101"})
	b1 := modifyStudy(t, srv, ct1, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^B", "StudyDate": "20240202"})
	decoy := modifyStudy(t, srv, ct1, map[string]string{"NameOfPhysiciansReadingStudy": "Reader^AB", "StudyDate": "20240303"})
	_, _ = b1, decoy

	store := newMemStore(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	var events []Event
	var evMu gosync.Mutex
	p := &Puller{Client: c, Store: store, Reader: "Reader^A", Priors: PriorPolicy{Max: 1},
		OnEvent: func(e Event) { evMu.Lock(); events = append(events, e); evMu.Unlock() }}
	ctx := context.Background()
	res, err := p.Pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 0 || res.Assigned != 2 || res.Priors != 2 {
		t.Fatalf("result %+v", res)
	}
	wantStudies := []string{a2, a1, mr1, ct2} // assigned oldest first, then priors
	if !slices.Equal(res.Ready, wantStudies) {
		t.Errorf("ready %v\nwant %v", res.Ready, wantStudies)
	}
	// Exactly those studies, byte-identical to what Orthanc stores.
	want := orthancFiles(t, srv, wantStudies...)
	if len(store.files) != len(want) {
		t.Errorf("store holds %d instances, want %d", len(store.files), len(want))
	}
	for sop, h := range want {
		path, ok := store.files[sop]
		if !ok {
			t.Errorf("instance %s missing", sop)
			continue
		}
		b, _ := os.ReadFile(path)
		if sha(b) != h {
			t.Errorf("instance %s differs from Orthanc's", sop)
		}
	}
	// Fetch order: the assigned studies (by date), then the priors.
	var studyOrder []string
	for _, sop := range store.order {
		if s := store.studyOf[sop]; len(studyOrder) == 0 || studyOrder[len(studyOrder)-1] != s {
			studyOrder = append(studyOrder, s)
		}
	}
	if !slices.Equal(studyOrder, wantStudies) {
		t.Errorf("fetch order %v\nwant %v", studyOrder, wantStudies)
	}
	for _, uid := range wantStudies {
		it := store.items[uid]
		if it.state != StateReady || it.done != it.total || it.total == 0 {
			t.Errorf("study %s: %+v", uid, it)
		}
	}
	if store.items[mr1].role != "prior" || store.items[a2].role != "assigned" {
		t.Errorf("roles: %+v %+v", store.items[mr1], store.items[a2])
	}
	if store.items[a1].fields["PatientID"] != "2CT2" {
		t.Errorf("fields of %s: %v", a1, store.items[a1].fields)
	}
	if len(events) == 0 {
		t.Error("no events")
	}

	// A second pull fetches nothing; a lost instance is fetched alone.
	res, err = p.Pull(ctx)
	if err != nil || res.Fetched != 0 || len(res.Ready) != 4 {
		t.Fatalf("second pull: %+v, %v", res, err)
	}
	var lost string
	for sop := range want {
		lost = sop
		break
	}
	store.forget(lost)
	res, err = p.Pull(ctx)
	if err != nil || res.Fetched != 1 || len(res.Ready) != 4 {
		t.Fatalf("pull after losing %s: %+v, %v", lost, res, err)
	}

	// A study no longer assigned drops off the worklist but stays readable.
	only := Query{Match: []Param{{"StudyInstanceUID", a1}}}
	p.Worklist = &only
	if _, err := p.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	if it := store.items[a2]; it.state != "unassigned" {
		t.Errorf("study %s no longer assigned: state %q", a2, it.state)
	}
	if len(store.files) != len(want) {
		t.Errorf("store holds %d instances after unassignment, want %d", len(store.files), len(want))
	}
}

// TestPullSurvivesArchiveCrashOrthanc kills Orthanc in the middle of a
// series retrieve (the answer breaks off), checks the study is not ready,
// restarts Orthanc and checks the next pull completes it without fetching
// again what had arrived whole.
func TestPullSurvivesArchiveCrashOrthanc(t *testing.T) {
	man := loadManifest(t)
	srv := orthanctest.New(t, orthanctest.Options{})
	study, files := syntheticStudy(t, man["ct2_jpeg_lossless_sv1"], 80, 3) // ~13 MB, more than socket buffers
	uploadAll(t, srv, files)

	store := newMemStore(t)
	var killOnce gosync.Once
	store.after = func(n int) {
		if n == 1 {
			killOnce.Do(srv.Kill)
		}
	}
	c := newTestClient(t, srv.DICOMwebURL, func(cfg *Config) { cfg.MaxRetries = 1 })
	wl := Query{Match: []Param{{"StudyInstanceUID", study}}}
	p := &Puller{Client: c, Store: store, Reader: "Reader^A", Worklist: &wl}
	ctx := context.Background()
	res, err := p.Pull(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := len(store.files)
	it := store.items[study]
	t.Logf("after the crash: %d instances stored, state %s (%d/%d): %s", got, it.state, it.done, it.total, it.reason)
	if len(res.Ready) != 0 || it.state == StateReady || got >= len(files) {
		t.Fatalf("study ready or complete after the archive died: %+v, %d stored", it, got)
	}
	if !res.Offline || it.state != StateDownloading || it.reason == "" {
		t.Errorf("result %+v, item %+v: want offline, downloading with a reason", res, it)
	}
	for _, f := range store.files { // everything stored is whole
		b, _ := os.ReadFile(f)
		if !slices.ContainsFunc(files, func(x []byte) bool { return bytes.Equal(x, b) }) {
			t.Errorf("%s is not one of the uploaded files", f)
		}
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	store.after = nil
	res, err = p.Pull(ctx)
	if err != nil || len(res.Ready) != 1 {
		t.Fatalf("pull after restart: %+v, %v", res, err)
	}
	if res.Fetched != len(files)-got || len(store.files) != len(files) || len(store.order) != len(files) {
		t.Errorf("fetched %d after restart (stored before %d, total %d, stores %d): something was fetched twice",
			res.Fetched, got, len(files), len(store.order))
	}
	if it := store.items[study]; it.state != StateReady || it.done != len(files) {
		t.Errorf("after restart: %+v", it)
	}
}

func TestPullOffline(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1/dicom-web", func(cfg *Config) { cfg.MaxRetries = 1 })
	store := newMemStore(t)
	var offline bool
	p := &Puller{Client: c, Store: store, Reader: "Reader^A", OnEvent: func(e Event) {
		if e.Kind == Connectivity && !e.Online {
			offline = true
		}
	}}
	res, err := p.Pull(context.Background())
	if !errors.Is(err, ErrOffline) || !res.Offline || !offline {
		t.Fatalf("res %+v err %v event %v; want offline", res, err, offline)
	}
}

func TestSortWorklistAndReaderMatch(t *testing.T) {
	mk := func(uid, prio, date string) Assignment {
		o := Object{TagStudyDate: {VR: "DA", Values: []string{date}}, TagRequestedProcedurePriority: {VR: "CS", Values: []string{prio}}}
		return Assignment{StudyUID: uid, Priority: priorityOf(o), Study: o}
	}
	a := []Assignment{mk("1", "ROUTINE", "20200101"), mk("2", "STAT", "20240101"), mk("3", "", "20190101"),
		mk("4", "HIGH", "20230101"), mk("5", "STAT", "20210101"), mk("6", "LOW", "20000101"), mk("7", "ROUTINE", "")}
	SortWorklist(a)
	var got []string
	for _, x := range a {
		got = append(got, x.StudyUID)
	}
	if want := []string{"5", "2", "4", "3", "1", "7", "6"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}

	tests := []struct {
		names  []string
		reader string
		want   bool
	}{
		{[]string{"Doe^Jane"}, "Doe^Jane", true},
		{[]string{"DOE^JANE^^"}, "doe^jane", true},
		{[]string{`Roe^Max\Doe^Jane`}, "Doe^Jane", true},
		{[]string{"Roe^Max", "Doe^Jane"}, "Doe^Jane", true},
		{[]string{"Doe^Janet"}, "Doe^Jane", false},
		{[]string{"Doe^Jane^M"}, "Doe^Jane", false},
		{nil, "Doe^Jane", false},
		{[]string{""}, "", false},
	}
	for _, tt := range tests {
		if got := readerMatches(tt.names, tt.reader); got != tt.want {
			t.Errorf("readerMatches(%q, %q) = %v", tt.names, tt.reader, got)
		}
	}
}
