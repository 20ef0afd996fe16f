package sync

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"teleread/cache"
)

// TestRetentionOffline: the service's background loop purges a study nobody
// accessed for retention_days even while the archive cannot be reached, and
// reports it as a purge; a study accessed since stays.
func TestRetentionOffline(t *testing.T) {
	c, err := cache.OpenTemp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var uids []string
	for _, n := range []string{"ct_small_explicit_le.dcm", "us_cine_jpeg_ybr422_30f.dcm"} {
		res, err := c.ImportFile(filepath.Join(corpusDir, "files", n))
		if err != nil {
			requireDependency(t, err)
		}
		uids = append(uids, res.StudyInstanceUID)
	}
	old := time.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339Nano)
	if _, err := c.DB().Exec(`UPDATE studies SET last_access_at = ?`, old); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(cache.AuditOpen, uids[1], "shown in the viewer"); err != nil {
		t.Fatal(err)
	}
	// An archive that is not there: a port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	client, err := New(Config{BaseURL: "http://" + addr + "/dicom-web"})
	if err != nil {
		t.Fatal(err)
	}
	link := &Link{Client: client, Reader: "Reader^A", RetentionDays: 7}
	purged := make(chan string, 4)
	svc := &Service{Cache: c, Interval: time.Hour, ProbeTimeout: 2 * time.Second, Retention: PurgeExpired,
		Connect: func(context.Context) (*Link, error) { return link, nil },
		OnEvent: func(e Event) {
			if e.Kind == Evicted && e.Purged {
				purged <- e.StudyUID
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case uid := <-purged:
		if uid != uids[0] {
			t.Errorf("purged %s, want %s", uid, uids[0])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing purged within 30 s while the archive is unreachable")
	}
	if _, err := c.StudyByUID(uids[0]); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("the expired study is still there: %v", err)
	}
	if _, err := c.StudyByUID(uids[1]); err != nil {
		t.Errorf("the study opened since is gone: %v", err)
	}
}
