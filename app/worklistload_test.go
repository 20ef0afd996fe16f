package app

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"teleread/app/internal/worklist"
)

func init() { guiScenarios["worklist-off-ui"] = worklistOffUIScenario }

// TestWorklistQueryOffUIGoroutine: the Refresh button has the worklist read
// on a goroutine that is not the UI goroutine; while that query is held, the
// real window still answers (typing into the filter filters the rows shown,
// work posted to the UI goroutine runs); released, the new study is listed.
func TestWorklistQueryOffUIGoroutine(t *testing.T) {
	runInRealWindow(t, "worklist-off-ui")
}

// goroutineID is the number the runtime gives the calling goroutine (the
// first line of its stack: "goroutine 7 [running]:").
func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	n, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return n
}

func worklistOffUIScenario(rw *realWindow) {
	var uiG uint64
	rw.do(func() { uiG = goroutineID() })

	// The query is held until released, and says where it ran.
	ran := make(chan uint64, 8)
	release := make(chan struct{})
	var once gosync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	rw.ws.rows.setLoad(func() ([]worklist.Row, error) {
		ran <- goroutineID()
		<-release
		return worklist.Load(rw.cache)
	})
	src := filepath.Join(rw.samples, "ct_small_explicit_le.dcm")
	res, err := rw.cache.ImportFile(src)
	if err != nil {
		rw.fatalf("import %s: %v", src, err)
	}
	uid := res.StudyInstanceUID

	// Tap Refresh without waiting: a query on the UI goroutine would hold it.
	var refresh *fyne.Container
	rw.do(func() { refresh = rw.ws.status.extra })
	fyne.Do(func() {
		for _, o := range refresh.Objects {
			if b, ok := o.(*widget.Button); ok && b.Text == "Refresh" {
				test.Tap(b)
			}
		}
	})
	var queryG uint64
	select {
	case queryG = <-ran:
	case <-time.After(20 * time.Second):
		rw.fatalf("Refresh never read the worklist")
	}
	if queryG == uiG {
		rw.errorf("the worklist query ran on the UI goroutine (%d)", uiG)
	}

	// The window answers while the query is held: typed text filters the
	// rows shown, within a second or two on a loaded machine.
	answered := make(chan int, 1)
	go func() {
		fyne.DoAndWait(func() {
			filter := rw.ws.worklist.filter
			rw.win.Canvas().Focus(filter)
			for _, r := range "no-such-patient" {
				filter.TypedRune(r)
			}
			answered <- len(rw.ws.worklist.view.Rows)
		})
	}()
	select {
	case n := <-answered:
		if n != 0 {
			rw.errorf("a filter matching nobody shows %d rows", n)
		}
	case <-time.After(5 * time.Second):
		free() // the UI goroutine is the one held: let it go to end the scenario
		rw.fatalf("the window did not answer typing for 5 s while the worklist query was held")
	}
	listed := func() (ok bool) {
		rw.do(func() { ok = rw.ws.worklist.view.IndexOf(uid) >= 0 })
		return ok
	}
	rw.do(func() { rw.ws.worklist.filter.SetText("") })
	if listed() {
		rw.errorf("the new study is listed before the query that reads it returned")
	}
	free()
	rw.waitUntil("the new study listed after the query returned", 20*time.Second, func() bool {
		return rw.ws.rows.settled() && rw.ws.worklist.view.IndexOf(uid) >= 0
	})
}
