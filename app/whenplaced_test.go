package app

import (
	"slices"
	"testing"
	"time"

	"teleread/app/internal/reading"
)

// TestWhenPlacedRunsEveryWaitingRequest asks for slice positions three
// times while the first read is on its way (open a comparison, relink at the
// current places, follow a scroll): each is its own intent, so each must run,
// in order, once the read is in. Keeping only the newest lost a relink to the
// scroll that followed it.
func TestWhenPlacedRunsEveryWaitingRequest(t *testing.T) {
	q := &uiQueue{}
	old := ui
	ui = q.push
	t.Cleanup(func() { ui = old })
	stack := func() *reading.Stack {
		return &reading.Stack{Items: []reading.Item{{Path: "one.dcm", Frames: 1}}}
	}
	s := &viewerScreen{}
	var ran []string
	for _, name := range []string{"compare", "relink", "follow"} {
		s.whenPlaced([]*reading.Stack{stack()}, func() { ran = append(ran, name) })
	}
	if len(ran) != 0 || !s.placing {
		t.Fatalf("before the read is in: ran %v, placing %v; want nothing run, a read on its way", ran, s.placing)
	}
	for deadline := time.Now().Add(10 * time.Second); len(ran) < 3 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.runPending()
	}
	if want := []string{"compare", "relink", "follow"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	if s.placing || len(s.placeWaiting) != 0 {
		t.Errorf("after: placing %v, %d waiting", s.placing, len(s.placeWaiting))
	}
}
