package allocs

import "testing"

var sink [][]byte

// pastExactFirst makes the calls that are measured exactly anyway, so that a
// test sees the estimate at work.
func pastExactFirst() {
	for calls.Load() < exactFirst {
		Objects(16, func() {})
	}
}

// TestBytes: a call over its bound is reported on every call, one under it
// never, whatever the estimate would have said.
func TestBytes(t *testing.T) {
	pastExactFirst()
	for _, tc := range []struct {
		name  string
		fn    func()
		bound uint64
		over  bool
	}{
		{"one large object over", func() { sink = [][]byte{make([]byte, 4<<20)} }, 1 << 20, true},
		{"one large object under", func() { sink = [][]byte{make([]byte, 512<<10)} }, 1 << 20, false},
		{"many small objects over", func() {
			sink = nil
			for range 25000 {
				sink = append(sink, make([]byte, 48))
			}
		}, 1 << 20, true},
		{"nothing", func() {}, 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range exactEvery + 1 {
				if got, over := Bytes(tc.bound, tc.fn); over != tc.over {
					t.Fatalf("call %d: %d bytes, over %v, want %v", i, got, over, tc.over)
				}
			}
		})
	}
}

// TestObjectsSmallExcess: past the first exactFirst calls, a call that makes
// a few more small objects than its bound, which the estimate may not see, is
// still reported within exactEvery calls, and a call within its bound never
// is.
func TestObjectsSmallExcess(t *testing.T) {
	few := func(n int) func() {
		return func() {
			sink = sink[:0]
			for range n {
				sink = append(sink[:len(sink):len(sink)], nil)
			}
		}
	}
	sink = make([][]byte, 0, 64)
	pastExactFirst()
	caught := false
	for range exactEvery {
		if _, over := Objects(16, few(24)); over {
			caught = true
			break
		}
	}
	if !caught {
		t.Errorf("24 allocations against a bound of 16 not reported in %d calls", exactEvery)
	}
	for i := range 4 * exactEvery {
		if got, over := Objects(16, func() {}); over {
			t.Fatalf("call %d: %d allocations reported over 16 for none", i, got)
		}
	}
}
