package dataset

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"teleread/viewer/dataset/hostiletest"
)

// allocated returns the bytes fn allocates (runtime.MemStats around the
// call: TotalAlloc is cumulative, so it bounds the peak from above).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBudgets carries the inputs that blew memory up: a 131 KB deflate stream
// of 128 MiB of zeros (1.9 GB RSS in info), a 1 MB one of 1 GiB (out of
// memory), a data set of 128 MiB of zeros (16 million empty elements), and a
// plain 64 MB file of 8-byte empty elements (932 MB on import). Each is
// refused with ErrBudget, and refusing it allocates no more than the budgets
// promise: MaxInflatedSize while inflating (1.5x as the buffer doubles) plus
// MaxDataSetMemory (2x as lists double), whatever the file declares.
func TestBudgets(t *testing.T) {
	const bound = (MaxInflatedSize*3/2 + 2*MaxDataSetMemory + 8<<20) * raceSlack
	tests := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"deflate bomb 128 MiB", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 128<<20) }},
		{"deflate bomb 1 GiB", func(w io.Writer) error { return hostiletest.DeflateBomb(w, 1<<30) }},
		{"deflated zeros 128 MiB", func(w io.Writer) error { return hostiletest.DeflatedZeros(w, 128<<20) }},
		{"64 MB of empty elements", func(w io.Writer) error { return hostiletest.ZeroLengthElements(w, 64<<20) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			for _, parse := range []struct {
				name string
				fn   func() error
			}{
				{"Parse", func() error { _, err := Parse(bytes.NewReader(data), int64(len(data)), tt.name); return err }},
				{"ParseBytes", func() error { _, err := ParseBytes(data, tt.name); return err }},
			} {
				var err error
				n := allocated(func() { err = parse.fn() })
				if !errors.Is(err, ErrBudget) {
					t.Errorf("%s: got %v, want %v", parse.name, err, ErrBudget)
				}
				if n > bound {
					t.Errorf("%s: allocated %d MiB refusing a %d KB file, budget %d MiB", parse.name, n>>20, len(data)>>10, bound>>20)
				}
				t.Logf("%s: %d KB file refused after %d MiB allocated: %v", parse.name, len(data)>>10, n>>20, err)
			}
		})
	}
}
