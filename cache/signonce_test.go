package cache

import (
	"errors"
	"testing"
	"time"

	"teleread/cache/report"
)

// TestSignedOnce: a report is signed once and each addendum queued once,
// whatever the caller holds. Two copies of one draft (two windows, the CLI
// beside the app) or of one signed report cannot both be signed: the second
// is refused with report.ErrSigned, and the outbox holds one SR per
// document, so the archive never receives two reports for one study.
func TestSignedOnce(t *testing.T) {
	reader := report.Observer{Name: "Reader^A"}
	tests := []struct {
		name   string
		act    func(t *testing.T, c *Cache, uid string) error // the second, stale write
		outbox int                                            // SRs queued in the end
	}{
		{"two signs of one draft", func(t *testing.T, c *Cache, uid string) error {
			a := report.NewDraft(report.KindReport, uid, reader, report.Template{}, time.Now())
			a.Edit(report.Sections{Findings: "First window."})
			b := report.NewDraft(report.KindReport, uid, reader, report.Template{}, time.Now())
			b.Edit(report.Sections{Findings: "Second window."})
			if _, err := c.SignReport(a, time.Now()); err != nil {
				t.Fatal(err)
			}
			_, err := c.SignReport(b, time.Now())
			return err
		}, 1},
		{"two addenda from one signed copy", func(t *testing.T, c *Cache, uid string) error {
			sign(t, c, report.KindReport, uid)
			r, err := c.LoadReport(uid, report.KindReport)
			if err != nil {
				t.Fatal(err)
			}
			stale := *r
			if _, err := c.AddAddendum(r, "First addendum.", reader, time.Now()); err != nil {
				t.Fatal(err)
			}
			_, err = c.AddAddendum(&stale, "Second addendum from a stale copy.", reader, time.Now())
			return err
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTemp(t)
			uid := importStudies(t, c, "ct_small_explicit_le.dcm")[0]
			if err := tt.act(t, c, uid); !errors.Is(err, report.ErrSigned) {
				t.Errorf("stale write: %v, want report.ErrSigned", err)
			}
			items, err := c.Outbox()
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.outbox {
				t.Errorf("outbox holds %d SRs, want %d", len(items), tt.outbox)
			}
			r, err := c.LoadReport(uid, report.KindReport)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Documents) != tt.outbox {
				t.Errorf("stored report has %d documents, want %d", len(r.Documents), tt.outbox)
			}
		})
	}
}
