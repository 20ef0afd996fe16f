package newest

import (
	"sync"
	"testing"
	"time"
)

// owner is a stand-in for the UI goroutine: posted functions run on its one
// goroutine, in order.
type owner struct {
	fns  chan func()
	done chan struct{}
}

func newOwner() *owner {
	o := &owner{fns: make(chan func(), 64), done: make(chan struct{})}
	go func() {
		defer close(o.done)
		for fn := range o.fns {
			fn()
		}
	}()
	return o
}

func (o *owner) post(fn func()) { o.fns <- fn }

// do runs fn on the owner goroutine and waits for it.
func (o *owner) do(fn func()) {
	ran := make(chan struct{})
	o.fns <- func() { fn(); close(ran) }
	<-ran
}

func (o *owner) stop() { close(o.fns); <-o.done }

// until polls cond on the owner goroutine until it holds.
func (o *owner) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		ok := false
		o.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestNewestAnswerWins: requests asked in order answer in another order
// (each is held until released); only the newest request's answer is shown,
// whenever the others answer, and Current tells the work which one that is.
func TestNewestAnswerWins(t *testing.T) {
	tests := []struct {
		name    string
		asks    []string // in the order asked
		release []string // the order their work returns
		cancel  bool     // Cancel after the last ask
		want    []string // shown, in order
	}{
		{"one", []string{"a"}, []string{"a"}, false, []string{"a"}},
		{"newest returns last", []string{"a", "b"}, []string{"a", "b"}, false, []string{"b"}},
		{"newest returns first", []string{"a", "b"}, []string{"b", "a"}, false, []string{"b"}},
		{"three, the middle last", []string{"a", "b", "c"}, []string{"c", "a", "b"}, false, []string{"c"}},
		{"cancelled", []string{"a", "b"}, []string{"b", "a"}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOwner()
			defer o.stop()
			var mu sync.Mutex
			gates := map[string]chan struct{}{}
			current := map[string]bool{}
			for _, q := range tt.asks {
				gates[q] = make(chan struct{})
			}
			var shown []string
			var r *Runner[string, string]
			r = New(func(ask uint64, q string) string {
				<-gates[q]
				mu.Lock()
				current[q] = r.Current(ask)
				mu.Unlock()
				return q
			}, o.post, func(a string) { shown = append(shown, a) })
			o.do(func() {
				for _, q := range tt.asks {
					r.Ask(q)
				}
				if tt.cancel {
					r.Cancel()
				}
				if !r.Pending() && !tt.cancel {
					t.Error("Pending is false while the newest request is at work")
				}
			})
			for _, q := range tt.release {
				close(gates[q])
				time.Sleep(5 * time.Millisecond) // let it answer before the next
			}
			o.until(t, "every answer", r.Idle)
			o.do(func() {
				if r.Pending() {
					t.Error("Pending is true after the newest request answered")
				}
				if len(shown) != len(tt.want) || (len(shown) > 0 && shown[0] != tt.want[0]) {
					t.Errorf("shown %q, want %q", shown, tt.want)
				}
			})
			mu.Lock()
			defer mu.Unlock()
			for _, q := range tt.asks {
				want := !tt.cancel && q == tt.asks[len(tt.asks)-1]
				if current[q] != want {
					t.Errorf("Current for %s's work = %v, want %v", q, current[q], want)
				}
			}
		})
	}
}

// TestClosedShowsNothing: an answer arriving after Close is dropped, and a
// request asked after it is not run.
func TestClosedShowsNothing(t *testing.T) {
	o := newOwner()
	defer o.stop()
	gate := make(chan struct{})
	runs := 0
	var mu sync.Mutex
	shown := 0
	r := New(func(uint64, int) int {
		mu.Lock()
		runs++
		mu.Unlock()
		<-gate
		return 1
	}, o.post, func(int) { shown++ })
	o.do(func() { r.Ask(1) })
	o.do(func() { r.Close() })
	close(gate)
	o.until(t, "the answer", r.Idle)
	o.do(func() {
		r.Ask(2)
		if shown != 0 || !r.Idle() {
			t.Errorf("after Close: %d shown, idle %v", shown, r.Idle())
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if runs != 1 {
		t.Errorf("%d requests run, want 1", runs)
	}
}

// TestManyAsks: a burst of requests from the owner while earlier ones answer
// shows the last one's answer, last (run with -race).
func TestManyAsks(t *testing.T) {
	o := newOwner()
	defer o.stop()
	var shown []int
	r := New(func(_ uint64, q int) int {
		time.Sleep(time.Duration(q%3) * time.Millisecond)
		return q
	}, o.post, func(a int) { shown = append(shown, a) })
	for i := range 100 {
		o.do(func() { r.Ask(i) })
	}
	o.until(t, "every answer", r.Idle)
	o.do(func() {
		if len(shown) == 0 || shown[len(shown)-1] != 99 {
			t.Errorf("shown %v, want 99 last", shown)
		}
	})
}
