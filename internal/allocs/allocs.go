// Package allocs measures what one call allocates on the Go heap, cheaply
// enough to run around every execution of a fuzz target, and exactly where
// the answer matters.
//
// runtime.ReadMemStats is exact but stops the world and flushes every P's
// cache: two calls cost 40-90 µs on a loaded machine, more than most fuzzed
// calls, and were most of what the fuzz targets spent. runtime/metrics reads
// the same counters in about 1 µs, but counts a small object (32 KiB or less)
// only when the span that holds it is handed back full, so its figure for one
// call can be off by the part of a span per size class that the call filled
// or that was filled before it; an object over 32 KiB, which is what a size
// read from hostile input makes, is counted as it is allocated.
//
// So Bytes and Objects measure the first exactFirst calls of a process
// exactly (a seed corpus run, as `go test` makes without -fuzz, is judged as
// strictly as before), and after that read runtime/metrics around the call;
// when that figure passes half the bound (bytes) or the bound (objects), or
// on every exactEvery-th call whatever it says, they run the call again
// between two runtime.ReadMemStats and judge by that exact figure. The call must
// therefore be repeatable: the same input gives the same allocations (every
// decoder and parser here is deterministic). A bound is reported broken only
// on the exact figure, never on the estimate.
package allocs

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
)

// exactFirst calls are measured exactly, and after them every exactEvery-th
// whatever the estimate says: a sample of the inputs is checked with no
// reliance on the estimate.
const (
	exactFirst = 256
	exactEvery = 64
)

var calls atomic.Uint64

// Bytes runs fn and returns the bytes of Go heap it allocated and whether
// that is over bound (see the package comment for when fn runs twice).
// C allocations of the cgo decoders are not counted.
func Bytes(bound uint64, fn func()) (uint64, bool) {
	return measure(bound, bound/2, "/gc/heap/allocs:bytes", fn, func(m *runtime.MemStats) uint64 { return m.TotalAlloc })
}

// Objects is Bytes for the number of heap allocations.
func Objects(bound uint64, fn func()) (uint64, bool) {
	return measure(bound, bound, "/gc/heap/allocs:objects", fn, func(m *runtime.MemStats) uint64 { return m.Mallocs })
}

func measure(bound, suspect uint64, metric string, fn func(), field func(*runtime.MemStats) uint64) (uint64, bool) {
	if n := calls.Add(1); n > exactFirst && n%exactEvery != 0 {
		s := [1]metrics.Sample{{Name: metric}}
		metrics.Read(s[:])
		before := s[0].Value.Uint64()
		fn()
		metrics.Read(s[:])
		if got := s[0].Value.Uint64() - before; got <= suspect {
			return got, false
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	got := field(&after) - field(&before)
	return got, got > bound
}
