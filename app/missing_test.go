package app

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"teleread/cache/cachetest"
	tsync "teleread/sync"
	"teleread/sync/orthanctest"
	"teleread/viewer"
)

const (
	missingStudy  = "1.2.826.0.1.3680043.10.1107.17.9"
	missingSeries = missingStudy + ".1"
	missingSlices = 30
)

// TestScrollOntoMissingSliceInRealWindow reads, in a real window, a CT study
// of which the cache holds the middle third while the app's sync service
// pulls the rest from a real Orthanc, its pull held at the archive's door.
// The stack shows all 30 slices; scrolling fast onto one not fetched shows
// "Fetching slice N of M…" on a black image and fetches that instance at
// once (only the slice stopped on and its neighbours, not the ones scrolled
// over); it is drawn when it lands, with the pixels of the original file
// (read by GDCM), and the message goes. With the archive gone, a slice not
// in the cache says so.
func TestScrollOntoMissingSliceInRealWindow(t *testing.T) {
	srv := orthanctest.New(t, orthanctest.Options{})
	dir := t.TempDir()
	files, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: dir, StudyUID: missingStudy, SeriesUID: missingSeries, SeriesNumber: 1, Slices: missingSlices, Size: 64, Seed: 17,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.MustUploadFiles(t, files...)
	if _, err := exec.LookPath("gdcmraw"); err != nil {
		t.Fatalf("gdcmraw (GDCM) reads the reference pixels: %v", err)
	}
	runInRealWindow(t, "missing-slice", "TELEREAD_GUI_ARCHIVE="+srv.URL, "TELEREAD_GUI_SERIES="+dir)
}

// archiveDoor stands in front of the archive: it holds every retrieve until
// opened (the pull waits there), then lets retrieves through slowly, as a
// home link would, noting the instances asked for.
type archiveDoor struct {
	front *httptest.Server
	gate  chan struct{}

	mu    gosync.Mutex
	open  bool
	held  int
	asked []string // instances retrieved since the door opened
}

func newArchiveDoor(archive string) (*archiveDoor, error) {
	target, err := url.Parse(archive)
	if err != nil {
		return nil, err
	}
	d := &archiveDoor{gate: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(target)
	d.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "multipart/related") {
			d.mu.Lock()
			open := d.open
			if open {
				d.asked = append(d.asked, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
			} else {
				d.held++
			}
			d.mu.Unlock()
			if !open {
				<-d.gate
				http.Error(w, "held", http.StatusServiceUnavailable)
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
		proxy.ServeHTTP(w, r)
	}))
	return d, nil
}

// letThrough opens the door for the retrieves asked from now on.
func (d *archiveDoor) letThrough() {
	d.mu.Lock()
	d.open = true
	d.mu.Unlock()
}

// instancesAsked returns the instances retrieved since the door opened.
func (d *archiveDoor) instancesAsked() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.asked)
}

// goAway takes the archive off the network: connections are refused.
func (d *archiveDoor) goAway() {
	d.front.Listener.Close()
	d.front.CloseClientConnections()
}

func (d *archiveDoor) close() {
	close(d.gate)
	d.front.Close()
}

func missingSliceScenario(rw *realWindow) {
	dir := os.Getenv("TELEREAD_GUI_SERIES")
	files, err := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if err != nil || len(files) != missingSlices {
		rw.fatalf("the series written by the test: %d files (%v)", len(files), err)
	}
	slices.Sort(files)
	sop := func(i int) string { return fmt.Sprintf("%s.%d", missingSeries, i+1) }
	// The cache holds the middle third, as after an interrupted pull.
	for _, p := range files[10:20] {
		f, err := os.Open(p)
		if err != nil {
			rw.fatalf("%v", err)
		}
		_, err = rw.cache.StoreInstance(f, p)
		f.Close()
		if err != nil {
			rw.fatalf("store %s: %v", p, err)
		}
	}
	door, err := newArchiveDoor(os.Getenv("TELEREAD_GUI_ARCHIVE"))
	if err != nil {
		rw.fatalf("%v", err)
	}
	defer door.close()
	client, err := tsync.New(tsync.Config{BaseURL: door.front.URL + "/dicom-web", MaxRetries: 1})
	if err != nil {
		rw.fatalf("%v", err)
	}
	loop := newSyncLoop(rw.cache, time.Hour, func(context.Context) (*tsync.Link, error) {
		return &tsync.Link{Client: client, Reader: "Doe^Jane", Display: "archive",
			Worklist: &tsync.Query{Match: []tsync.Param{{Key: "StudyInstanceUID", Value: missingStudy}}}}, nil
	})
	rw.do(func() {
		rw.ws.sync = loop // the workstation closes it
		rw.ws.bridge.forwardLatest(loop.wake, loop.take, rw.ws.applyStatus)
		loop.start()
	})
	// The pull lists the study and waits at the door for its first slice.
	rw.waitUntil("the pull's first retrieve", 30*time.Second, func() bool {
		door.mu.Lock()
		defer door.mu.Unlock()
		return door.held > 0
	})
	rw.openStudy(missingStudy)
	rw.waitShown()
	var vp *viewport
	rw.do(func() { vp = rw.ws.viewer.active })
	// The archive's listing places the slices the cache lacks: the reader is
	// still on the slice shown first (the 11th).
	rw.waitUntil("the stack to list all 30 slices", 30*time.Second, func() bool { return len(vp.st.Items) == missingSlices })
	rw.do(func() {
		if vp.index != 10 || vp.st.Items[10].SOP != sop(10) || vp.st.CountMissing() != 20 {
			rw.fatalf("after the listing: on %d (%s), %d of %d missing; want 10 (%s), 20 missing",
				vp.index, vp.st.Items[vp.index].SOP, vp.st.CountMissing(), len(vp.st.Items), sop(10))
		}
	})
	for range 9 {
		rw.key(fyne.KeyDown)
	}
	rw.waitShown()

	// Six quick steps down, over five slices not fetched, onto the 26th:
	// a wheel turned at 33 notches a second, the keys delivered as the
	// driver delivers them, however loaded the machine.
	door.letThrough()
	rw.do(func() {
		c := rw.win.Canvas()
		for range 6 {
			c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
			time.Sleep(30 * time.Millisecond)
		}
	})
	const fetching = "Fetching slice 26 of 30…"
	rw.do(func() {
		if vp.index != 25 {
			rw.fatalf("on slice %d; want 25", vp.index)
		}
		if _, ok := findText(vp, fetching); !ok {
			rw.errorf("on a slice not fetched the viewport says %v; want %q", textsUnder(vp), fetching)
		}
		if _, ok := vp.onScreen(); ok {
			rw.errorf("on a slice not fetched the viewport paints the picture of %s", vp.last.req.item.SOP)
		}
	})
	rw.waitUntil("the 26th slice drawn", 30*time.Second, func() bool {
		_, ok := vp.onScreen()
		return ok && vp.last.req.item.SOP == sop(25) && vp.last.req.seq == vp.seq
	})
	rw.do(func() {
		if t, ok := findText(vp, "Fetching"); ok {
			rw.errorf("the slice is drawn and the viewport still says %q", t.text)
		}
		if _, ok := findText(vp, "Im 26/30"); !ok {
			rw.errorf("the overlay of the arrived slice: %v; want Im 26/30", textsUnder(vp))
		}
		if err := sameStoredValues(vp.last.frame, files[25]); err != nil {
			rw.errorf("the 26th slice as drawn: %v", err)
		}
	})
	// Only the slice stopped on and its neighbours were asked for.
	time.Sleep(2 * time.Second)
	want := []string{sop(24), sop(25), sop(26)}
	got := door.instancesAsked()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		rw.errorf("instances retrieved after the reader scrolled: %v; want only %v (the slice stopped on and its neighbours)", got, want)
	}

	// The archive goes away: the last slice is not in the cache, and the
	// viewport says why.
	door.goAway()
	rw.key(fyne.KeyEnd)
	const offline = "Slice 30 of 30: Not in cache; archive offline"
	rw.waitUntil("the viewport to say the archive is offline", 60*time.Second, func() bool {
		_, ok := findText(vp, offline)
		return ok
	})
	rw.do(func() {
		if _, ok := vp.onScreen(); ok || vp.index != 29 {
			rw.errorf("offline on slice %d, a picture painted %v; want slice 29, black", vp.index, ok)
		}
	})

	// The slice reaches the cache another way (as the pull stores it, its
	// event through the sync loop): the viewport waiting on it draws it.
	f, err := os.Open(files[29])
	if err != nil {
		rw.fatalf("%v", err)
	}
	_, err = rw.cache.StoreInstance(f, files[29])
	f.Close()
	if err != nil {
		rw.fatalf("%v", err)
	}
	loop.event(tsync.Event{Kind: tsync.StudyProgress, StudyUID: missingStudy, Done: 14, Total: missingSlices})
	rw.waitUntil("the 30th slice drawn once the pull brought it", 30*time.Second, func() bool {
		_, ok := vp.onScreen()
		return ok && vp.last.req.item.SOP == sop(29) && vp.last.req.seq == vp.seq
	})
	rw.do(func() {
		if t, ok := findText(vp, "Not in cache"); ok {
			rw.errorf("the slice is drawn and the viewport still says %q", t.text)
		}
		if err := sameStoredValues(vp.last.frame, files[29]); err != nil {
			rw.errorf("the 30th slice as drawn: %v", err)
		}
	})
}

// sameStoredValues compares a decoded frame with the Pixel Data of the
// original file as GDCM reads it (16-bit little endian stored values).
func sameStoredValues(f *viewer.Frame, path string) error {
	if f == nil {
		return fmt.Errorf("no frame")
	}
	out := filepath.Join(os.TempDir(), "teleread-ref-"+strconv.Itoa(os.Getpid())+".raw")
	defer os.Remove(out)
	if b, err := exec.Command("gdcmraw", "-i", path, "-o", out, "-t", "7fe0,0010").CombinedOutput(); err != nil {
		return fmt.Errorf("gdcmraw %s: %v: %s", path, err, b)
	}
	ref, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	n := f.Rows * f.Cols
	if len(ref) < 2*n {
		return fmt.Errorf("GDCM read %d bytes of pixel data; want %d", len(ref), 2*n)
	}
	got := func(i int) int {
		switch {
		case f.U16 != nil:
			return int(f.U16[i])
		case f.I16 != nil:
			return int(uint16(f.I16[i]))
		}
		return -1
	}
	for i := range n {
		if w := int(binary.LittleEndian.Uint16(ref[2*i:])); got(i) != w {
			return fmt.Errorf("pixel %d: %d; the original file has %d", i, got(i), w)
		}
	}
	return nil
}
