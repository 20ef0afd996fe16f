package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"teleread/cache/cachetest"
	"teleread/cache/report"
	"teleread/viewer/dataset"
)

// TestStudySource: every way an instance enters the cache records where its
// study came from, and a consultation note is queued for delivery only on a
// study the archive sent. The puller stores through a Batch; before, batches
// recorded every study as an import, and notes on synced studies stayed local.
func TestStudySource(t *testing.T) {
	ct := filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm")
	tests := []struct {
		name  string
		store func(t *testing.T, c *Cache) string // returns the study UID
		want  string
		state string // of a signed consultation note
	}{
		{"archive batch", func(t *testing.T, c *Cache) string { return viaBatch(t, c, SourceArchive, ct) }, SourceArchive, OutboxPending},
		{"archive instance", func(t *testing.T, c *Cache) string {
			f, _ := os.Open(ct)
			defer f.Close()
			if _, err := c.StoreInstance(f, ct); err != nil {
				t.Fatal(err)
			}
			return studyOf(t, c, ct)
		}, SourceArchive, OutboxPending},
		{"import batch", func(t *testing.T, c *Cache) string { return viaBatch(t, c, SourceImport, ct) }, SourceImport, OutboxLocal},
		{"import file", func(t *testing.T, c *Cache) string {
			res, err := c.ImportFile(ct)
			if err != nil {
				t.Fatal(err)
			}
			return res.StudyInstanceUID
		}, SourceImport, OutboxLocal},
		{"imported, then retrieved", func(t *testing.T, c *Cache) string {
			// The archive holds what was imported from a CD: notes may go there.
			paths := series(t, 2)
			if _, err := c.ImportFile(paths[0]); err != nil {
				t.Fatal(err)
			}
			return viaBatch(t, c, SourceArchive, paths[1])
		}, SourceArchive, OutboxPending},
		{"shared, then retrieved", func(t *testing.T, c *Cache) string {
			paths := series(t, 2)
			res, err := c.ImportFile(paths[0])
			if err != nil {
				t.Fatal(err)
			}
			c.SetSource(res.StudyInstanceUID, SourceShared)
			return viaBatch(t, c, SourceArchive, paths[1])
		}, SourceShared, OutboxLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			uid := tt.store(t, c)
			st, err := c.StudyByUID(uid)
			if err != nil {
				t.Fatal(err)
			}
			if st.Source != tt.want {
				t.Errorf("Source = %q, want %q", st.Source, tt.want)
			}
			if got := signConsult(t, c, uid); got != tt.state {
				t.Errorf("consultation note %s, want %s", got, tt.state)
			}
		})
	}
}

// TestMigrateArchiveSource runs the migration that repairs caches written
// while the puller recorded its studies as imports: a study with a worklist
// row came from the archive; one without stays an import, a shared one shared.
func TestMigrateArchiveSource(t *testing.T) {
	c := openTemp(t)
	var uids []string
	for _, name := range []string{"ct_small_explicit_le.dcm", "mr_small_explicit_le.dcm", "sc_jpeg_baseline_mono8.dcm"} {
		// Written as the old puller did: as imports.
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, res.StudyInstanceUID)
	}
	c.PutWorkItem(uids[0], "A", "assigned", "", 2, nil)
	c.PutWorkItem(uids[2], "A", "prior", uids[0], 2, nil)
	c.SetSource(uids[2], SourceShared)
	body, err := migrations.ReadFile("migrations/0006_archive_source.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB().Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{SourceArchive, SourceImport, SourceShared} {
		st, _ := c.StudyByUID(uids[i])
		if st.Source != want {
			t.Errorf("study %d: Source = %q, want %q", i, st.Source, want)
		}
	}
}

func viaBatch(t *testing.T, c *Cache, source, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b := c.NewBatch(source)
	if _, err := b.AddBytes(data, p); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	return studyOf(t, c, p)
}

// series makes n instances of one study from the CT of the corpus.
func series(t *testing.T, n int) []string {
	t.Helper()
	paths, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func studyOf(t *testing.T, c *Cache, p string) string {
	t.Helper()
	f, err := dataset.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	uid := f.String(dataset.StudyInstanceUID)
	if _, err := c.StudyByUID(uid); err != nil {
		t.Fatal(err)
	}
	return uid
}

func signConsult(t *testing.T, c *Cache, uid string) string {
	t.Helper()
	r := report.NewDraft(report.KindConsult, uid, report.Observer{Name: "Consultant^C"}, report.Template{}, time.Now())
	r.Edit(report.Sections{Findings: "Agree."})
	doc, err := c.SignReport(r, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	items, _ := c.Outbox()
	for _, it := range items {
		if it.SOPInstanceUID == doc.SOPInstanceUID {
			return it.State
		}
	}
	t.Fatal("signed note not in the outbox")
	return ""
}
