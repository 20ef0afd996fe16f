package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"teleread/sync/orthanctest"
)

// studiesOf maps corpus ids to their (distinct, sorted) Study Instance UIDs
// as the corpus MANIFEST records them.
func studiesOf(t *testing.T, ids ...string) []string {
	t.Helper()
	man := loadManifest(t)
	var out []string
	for _, id := range ids {
		e, ok := man[id]
		if !ok {
			t.Fatalf("corpus has no %s", id)
		}
		if !slices.Contains(out, e.Info.StudyInstanceUID) {
			out = append(out, e.Info.StudyInstanceUID)
		}
	}
	slices.Sort(out)
	return out
}

func studyUIDs(objs []Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.StudyUID())
	}
	slices.Sort(out)
	return out
}

func TestQIDOStudiesOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	ct1 := studiesOf(t, "ct_small_explicit_le")[0]
	ct2 := studiesOf(t, "ct2_j2k_lossy")[0]

	compressed := []string{"ct_small_explicit_le", "ct2_j2k_lossy", "mr1_jpeg_extended_wg04", "nm1_jpeg_extended_fixed",
		"mr2_j2k_lossy_rescale", "us1_j2k_lossless_ybr_rct", "cr_rg1_j2k_lossy_mono1_large"}
	tests := []struct {
		name  string
		match []Param
		want  []string // corpus ids whose studies must be found
	}{
		{"wildcard with caret", []Param{{"PatientName", "CompressedSamples^CT*"}}, []string{"ct_small_explicit_le", "ct2_j2k_lossy"}},
		{"wildcard suffix", []Param{{"PatientName", "CompressedSamples^*"}}, compressed},
		{"leading wildcard", []Param{{"PatientName", "*^G"}}, []string{"sc_rgb_rle"}},
		{"exact name", []Param{{"PatientName", "Lestrade^G"}}, []string{"sc_rgb_rle"}},
		{"patient id wildcard", []Param{{"PatientID", "*CT*"}}, []string{"ct_small_explicit_le", "ct2_j2k_lossy"}},
		{"date range", []Param{{"StudyDate", "20040101-20041231"}}, compressed},
		{"modality", []Param{{"ModalitiesInStudy", "CT"}}, []string{"ct_small_explicit_le", "ct2_j2k_lossy"}},
		{"uid list", []Param{{"StudyInstanceUID", ct1 + "," + ct2}}, []string{"ct_small_explicit_le", "ct2_j2k_lossy"}},
		{"tag key", []Param{{"00100020", "2CT2"}}, []string{"ct2_j2k_lossy"}},
		{"two keys", []Param{{"PatientName", "CompressedSamples^*"}, {"ModalitiesInStudy", "NM"}}, []string{"nm1_jpeg_extended_fixed"}},
		{"no match", []Param{{"PatientName", "Nobody^*"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.SearchStudies(ctx, Query{Match: tt.match, IncludeFields: []string{"NumberOfStudyRelatedInstances"}})
			if err != nil {
				t.Fatal(err)
			}
			want := studiesOf(t, tt.want...)
			if !slices.Equal(studyUIDs(got), want) {
				t.Errorf("got studies %v\nwant %v", studyUIDs(got), want)
			}
		})
	}
}

func TestQIDOPagingOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	want := studiesOf(t, seedFiles...)

	all, err := c.SearchStudies(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(studyUIDs(all), want) {
		t.Fatalf("unpaged search: %d studies, want %d", len(all), len(want))
	}
	for _, pageSize := range []int{1, 3, 4, len(want), 100} {
		var got []Object
		err := c.SearchAll(ctx, "/studies", Query{IncludeFields: []string{"StudyDescription"}}, pageSize, func(o Object) error {
			got = append(got, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(studyUIDs(got), want) {
			t.Errorf("page size %d: got %v\nwant %v", pageSize, studyUIDs(got), want)
		}
	}
	// One page at an offset.
	page, err := c.SearchStudies(ctx, Query{Limit: 2, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 {
		t.Errorf("limit 2 offset 1: %d results", len(page))
	}
}

func TestQIDOSeriesInstancesOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	man := loadManifest(t)
	ct1 := man["ct_small_explicit_le"].Info
	pm := man["parametric_map_float32"].Info

	series, err := c.SearchSeries(ctx, ct1.StudyInstanceUID, Query{IncludeFields: []string{"NumberOfSeriesRelatedInstances"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range series {
		got = append(got, s.SeriesUID())
		if n, ok := s.Int(TagNumberOfSeriesRelatedInstances); !ok || n != 1 {
			t.Errorf("series %s: NumberOfSeriesRelatedInstances %d, %v", s.SeriesUID(), n, ok)
		}
	}
	slices.Sort(got)
	want := []string{ct1.SeriesInstanceUID, pm.SeriesInstanceUID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("series %v, want %v", got, want)
	}

	insts, err := c.SearchInstances(ctx, ct1.StudyInstanceUID, ct1.SeriesInstanceUID, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || insts[0].SOPInstanceUID() != ct1.SOPInstanceUID {
		t.Errorf("instances of the CT series: %v", insts)
	}

	// Lookup by SOP Instance UID, found and not found.
	o, err := c.FindInstance(ctx, pm.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	if o == nil || o.StudyUID() != pm.StudyInstanceUID || o.SeriesUID() != pm.SeriesInstanceUID {
		t.Errorf("FindInstance(%s) = %v", pm.SOPInstanceUID, o)
	}
	o, err = c.FindInstance(ctx, "1.2.3.4.5.6.7.8.9")
	if err != nil || o != nil {
		t.Errorf("FindInstance(unknown) = %v, %v; want nil, nil", o, err)
	}
}

// TestRetrieveStudiesOrthanc retrieves every study of the archive with
// transfer-syntax=* and checks each instance is byte-identical to what
// Orthanc stores and to the corpus file that was uploaded, and that every
// instance QIDO counts arrived.
func TestRetrieveStudiesOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	man := loadManifest(t)

	studies, err := c.SearchStudies(ctx, Query{IncludeFields: []string{"NumberOfStudyRelatedInstances"}})
	if err != nil {
		t.Fatal(err)
	}
	uploaded := map[string]bool{} // SHA-256 of every corpus file seeded
	for _, id := range seedFiles {
		uploaded[man[id].FileSHA256] = true
	}
	seen := map[string]bool{}
	for _, st := range studies {
		t.Run(st.StudyUID(), func(t *testing.T) {
			count, ok := st.Int(TagNumberOfStudyRelatedInstances)
			if !ok {
				t.Fatal("no NumberOfStudyRelatedInstances")
			}
			got := map[string]bool{}
			n, err := c.RetrieveStudy(ctx, st.StudyUID(), func(part io.Reader) error {
				h := sha256.New()
				if _, err := io.Copy(h, part); err != nil {
					return err
				}
				got[hex.EncodeToString(h.Sum(nil))] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != count || len(got) != count {
				t.Errorf("%d parts (%d distinct), QIDO counts %d", n, len(got), count)
			}
			want := storedSHA256(t, srv, st.StudyUID())
			for h := range want {
				if !got[h] {
					t.Errorf("stored instance %s… not retrieved byte-identical", h[:12])
				}
			}
			for h := range got {
				if !want[h] {
					t.Errorf("retrieved instance %s… is not what Orthanc stores", h[:12])
				}
				if !uploaded[h] {
					t.Errorf("retrieved instance %s… is not a corpus file that was uploaded", h[:12])
				}
				seen[h] = true
			}
		})
	}
	if len(seen) != len(seedFiles) {
		t.Errorf("retrieved %d distinct instances, seeded %d", len(seen), len(seedFiles))
	}
}

func TestRetrieveSeriesInstanceMetadataOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	man := loadManifest(t)
	for _, id := range []string{"ct2_jpegls_near_lossless", "xa_cine_jpeg_baseline", "cr_mono1_chest_nometa", "image_deflate_sc"} {
		e := man[id]
		in := e.Info
		t.Run(id, func(t *testing.T) {
			var buf bytes.Buffer
			err := c.RetrieveInstance(ctx, in.StudyInstanceUID, in.SeriesInstanceUID, in.SOPInstanceUID, func(p io.Reader) error {
				_, err := io.Copy(&buf, p)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if sha(buf.Bytes()) != e.FileSHA256 {
				t.Errorf("instance differs from the corpus file (%d bytes)", buf.Len())
			}
			n, err := c.RetrieveSeries(ctx, in.StudyInstanceUID, in.SeriesInstanceUID, func(p io.Reader) error {
				_, err := io.Copy(io.Discard, p)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			insts, err := c.SearchInstances(ctx, in.StudyInstanceUID, in.SeriesInstanceUID, Query{})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(insts) {
				t.Errorf("series retrieve gave %d parts, QIDO lists %d instances", n, len(insts))
			}
			md, err := c.Metadata(ctx, in.StudyInstanceUID, in.SeriesInstanceUID)
			if err != nil {
				t.Fatal(err)
			}
			var sops []string
			for _, o := range md {
				sops = append(sops, o.SOPInstanceUID())
			}
			if len(md) != len(insts) || !slices.Contains(sops, in.SOPInstanceUID) {
				t.Errorf("metadata lists %v, want %d instances including %s", sops, len(insts), in.SOPInstanceUID)
			}
		})
	}
	// A study that does not exist.
	_, err := c.RetrieveStudy(ctx, "1.2.3.4.5.6.7.8.9.0", func(io.Reader) error { return nil })
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Errorf("retrieve of an unknown study: %v, want a 404 HTTPError", err)
	}
}

func TestStoreOrthanc(t *testing.T) {
	srv := sharedArchive(t)
	c := newTestClient(t, srv.DICOMwebURL, nil)
	ctx := context.Background()
	man := loadManifest(t)
	sr := man["sr_basic_text"]
	srBytes, err := os.ReadFile(corpusPath(sr))
	requireDependency(t, err)
	comp := man["sr_comprehensive"]
	compBytes, err := os.ReadFile(corpusPath(comp))
	requireDependency(t, err)

	tests := []struct {
		name       string
		study      string
		files      [][]byte
		wantStored []string
		wantNot    []string
		wantErr    bool
	}{
		{"to its study", sr.Info.StudyInstanceUID, [][]byte{srBytes}, []string{sr.Info.SOPInstanceUID}, nil, false},
		{"again, same bytes", sr.Info.StudyInstanceUID, [][]byte{srBytes}, []string{sr.Info.SOPInstanceUID}, nil, false},
		{"to another study's URL", sr.Info.StudyInstanceUID, [][]byte{compBytes}, nil, []string{comp.Info.SOPInstanceUID}, true},
		{"not DICOM", "", [][]byte{[]byte("this is not a DICOM file")}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Store(ctx, tt.study, tt.files...)
			t.Logf("result %+v, error %v", res, err)
			for _, uid := range tt.wantStored {
				if !res.StoredUID(uid) {
					t.Errorf("%s not referenced as stored (err %v)", uid, err)
				}
			}
			for _, uid := range tt.wantNot {
				if res.StoredUID(uid) {
					t.Errorf("%s referenced as stored", uid)
				}
			}
			stored := 0
			if res != nil {
				stored = len(res.Stored)
			}
			if tt.wantErr && err == nil && stored > 0 {
				t.Errorf("no error and %d stored", stored)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("error %v", err)
			}
		})
	}
	// What was stored is findable and byte-identical.
	o, err := c.FindInstance(ctx, sr.Info.SOPInstanceUID)
	if err != nil || o == nil {
		t.Fatalf("FindInstance after STOW: %v, %v", o, err)
	}
	var buf bytes.Buffer
	err = c.RetrieveInstance(ctx, o.StudyUID(), o.SeriesUID(), o.SOPInstanceUID(), func(p io.Reader) error {
		_, err := io.Copy(&buf, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), srBytes) {
		t.Error("stored SR differs from what was sent")
	}
	if o, _ := c.FindInstance(ctx, comp.Info.SOPInstanceUID); o != nil {
		t.Error("the instance sent to another study's URL was stored")
	}
}

func TestAuthOrthanc(t *testing.T) {
	const user, password = "reader", "pw-Zq7!x"
	srv := orthanctest.New(t, orthanctest.Options{Users: map[string]string{user: password}})
	ctx := context.Background()
	hostURL := strings.Replace(srv.DICOMwebURL, "http://", "http://"+user+":"+password+"@", 1)
	tests := []struct {
		name       string
		cfg        Config
		wantStatus int
	}{
		{"basic", Config{BaseURL: srv.DICOMwebURL, Auth: BasicAuth{user, password}}, 0},
		{"userinfo in URL", Config{BaseURL: hostURL}, 0},
		{"wrong password", Config{BaseURL: srv.DICOMwebURL, Auth: BasicAuth{user, "wrong-" + password}}, 401},
		{"no credentials", Config{BaseURL: srv.DICOMwebURL}, 401},
		{"bearer not accepted", Config{BaseURL: srv.DICOMwebURL, Auth: BearerToken{"tok-" + password}}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.BaseURL(), password) {
				t.Errorf("BaseURL shows the password: %s", c.BaseURL())
			}
			_, err = c.SearchStudies(ctx, Query{})
			var he *HTTPError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatal(err)
			case tt.wantStatus != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantStatus):
				t.Fatalf("error %v, want HTTP %d", err, tt.wantStatus)
			}
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestOfflineClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newTestClient(t, "http://user:hunter2@"+addr+"/dicom-web", func(cfg *Config) { cfg.MaxRetries = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.SearchStudies(ctx, Query{})
	if !errors.Is(err, ErrOffline) || !IsTransient(err) {
		t.Fatalf("error %v, want ErrOffline", err)
	}
	if !strings.Contains(err.Error(), "GET /dicom-web/studies") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error does not name the request, or shows the password: %v", err)
	}
	if err := c.Probe(ctx); !errors.Is(err, ErrOffline) {
		t.Errorf("Probe: %v, want ErrOffline", err)
	}
}
