package mailbox

import (
	"sync"
	"testing"
	"time"
)

// op is one step of a table case: put a value, take (wanting a value or
// none), clear, or look at Pending.
type op struct {
	kind string // "put", "take", "clear", "pending"
	v    int    // put: the value; take: the value wanted
	ok   bool   // take: a value wanted; pending: the answer wanted
}

func TestLatest(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
	}{
		{"empty", []op{{kind: "pending", ok: false}, {kind: "take", ok: false}}},
		{"put then take", []op{{kind: "put", v: 1}, {kind: "pending", ok: true}, {kind: "take", v: 1, ok: true}, {kind: "take", ok: false}}},
		{"the newest wins", []op{{kind: "put", v: 1}, {kind: "put", v: 2}, {kind: "put", v: 3}, {kind: "take", v: 3, ok: true}, {kind: "take", ok: false}}},
		{"clear drops", []op{{kind: "put", v: 1}, {kind: "clear"}, {kind: "pending", ok: false}, {kind: "take", ok: false}}},
		{"put after take", []op{{kind: "put", v: 1}, {kind: "take", v: 1, ok: true}, {kind: "put", v: 2}, {kind: "take", v: 2, ok: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New[int]()
			for i, o := range tt.ops {
				switch o.kind {
				case "put":
					m.Put(o.v)
				case "clear":
					m.Clear()
				case "pending":
					if got := m.Pending(); got != o.ok {
						t.Fatalf("step %d: Pending = %v, want %v", i, got, o.ok)
					}
				case "take":
					v, ok := m.Take()
					if ok != o.ok || (ok && v != o.v) {
						t.Fatalf("step %d: Take = %d, %v; want %d, %v", i, v, ok, o.v, o.ok)
					}
				}
			}
		})
	}
}

// TestReadySignalsOnce: a burst of Puts leaves one signal, so the taker runs
// once for the burst.
func TestReadySignalsOnce(t *testing.T) {
	m := New[int]()
	for i := range 5 {
		m.Put(i)
	}
	select {
	case <-m.Ready():
	default:
		t.Fatal("no signal after Put")
	}
	select {
	case <-m.Ready():
		t.Fatal("a second signal for one burst")
	default:
	}
	if v, ok := m.Take(); !ok || v != 4 {
		t.Fatalf("Take = %d, %v; want 4, true", v, ok)
	}
}

// TestTakeForgets: the box holds no reference to a value it handed over (a
// draft or a request with its buffers is not kept alive by the box).
func TestTakeForgets(t *testing.T) {
	m := New[*[1 << 10]byte]()
	m.Put(new([1 << 10]byte))
	m.Take()
	if m.v != nil {
		t.Error("the box still references the value it handed over")
	}
	m.Put(new([1 << 10]byte))
	m.Clear()
	if m.v != nil {
		t.Error("the box still references the value it cleared")
	}
}

// TestConcurrentNewestWins runs a producer and a taker at once (under -race
// in make test): the taker never sees an older value after a newer one, and
// always ends with the last one put.
func TestConcurrentNewestWins(t *testing.T) {
	const n = 20000
	m := New[int]()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= n; i++ {
			m.Put(i)
		}
	}()
	last, takes := 0, 0
	deadline := time.After(20 * time.Second)
	for last < n {
		select {
		case <-m.Ready():
		case <-deadline:
			t.Fatalf("the last value never arrived (last taken %d)", last)
		}
		v, ok := m.Take()
		if !ok {
			continue
		}
		takes++
		if v <= last {
			t.Fatalf("took %d after %d", v, last)
		}
		last = v
	}
	wg.Wait()
	if _, ok := m.Take(); ok {
		t.Error("a value left after the last was taken")
	}
	t.Logf("%d values put, %d taken", n, takes)
}

// union merges sets of ints: a Put adds its members to those not yet taken.
func union(pending, v map[int]bool) map[int]bool {
	for k := range v {
		pending[k] = true
	}
	return pending
}

func TestMerging(t *testing.T) {
	tests := []struct {
		name string
		puts [][]int // Puts before the Take
		want []int   // what the Take holds
	}{
		{"one put", [][]int{{1}}, []int{1}},
		{"a burst folds into one", [][]int{{1}, {2}, {3}}, []int{1, 2, 3}},
		{"overlapping puts", [][]int{{1, 2}, {2, 3}}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMerging(union)
			for _, p := range tt.puts {
				s := map[int]bool{}
				for _, k := range p {
					s[k] = true
				}
				m.Put(s)
			}
			got, ok := m.Take()
			if !ok || len(got) != len(tt.want) {
				t.Fatalf("Take = %v, %v; want %v", got, ok, tt.want)
			}
			for _, k := range tt.want {
				if !got[k] {
					t.Fatalf("Take = %v; want %v", got, tt.want)
				}
			}
			if v, ok := m.Take(); ok {
				t.Fatalf("a second Take found %v", v)
			}
		})
	}
}

// TestMergingConcurrentLosesNothing runs two producers and a taker at once
// (under -race in make test): every member put is taken exactly once, though
// the taker takes far fewer times than the producers put.
func TestMergingConcurrentLosesNothing(t *testing.T) {
	const n = 10000
	m := NewMerging(union)
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				m.Put(map[int]bool{p*n + i: true})
			}
		}()
	}
	seen := map[int]bool{}
	takes := 0
	deadline := time.After(20 * time.Second)
	for len(seen) < 2*n {
		select {
		case <-m.Ready():
		case <-deadline:
			t.Fatalf("%d of %d members taken", len(seen), 2*n)
		}
		v, ok := m.Take()
		if !ok {
			continue
		}
		takes++
		for k := range v {
			if seen[k] {
				t.Fatalf("member %d taken twice", k)
			}
			seen[k] = true
		}
	}
	wg.Wait()
	if v, ok := m.Take(); ok {
		t.Errorf("%v left after every member was taken", v)
	}
	t.Logf("%d puts, %d takes", 2*n, takes)
}
