package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleread/internal/allocs"
)

// explicitLE builds a PS3.10 file (preamble, meta, explicit VR LE data set) from
// raw data set bytes.
func explicitLE(dataSet []byte) []byte {
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	ts := []byte(ExplicitVRLittleEndian + "\x00")
	b.Write([]byte{0x02, 0x00, 0x10, 0x00, 'U', 'I'})
	binary.Write(&b, binary.LittleEndian, uint16(len(ts)))
	b.Write(ts)
	b.Write(dataSet)
	return b.Bytes()
}

// TestHostileLengths carries the shapes that make naive readers allocate what a
// file declares: a tiny file that declares a 1 GiB value must be refused before
// anything is allocated.
func TestHostileLengths(t *testing.T) {
	gib := []byte{0x00, 0x00, 0x00, 0x40} // 0x40000000 little endian
	tests := []struct {
		name    string
		dataSet []byte
		wantErr error
	}{
		{"1GiB OB value", append([]byte{0x09, 0x00, 0x10, 0x00, 'O', 'B', 0, 0}, gib...), ErrValueTooLong},
		{"1GiB pixel data", append([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0}, gib...), ErrValueTooLong},
		{"1GiB implicit-looking element", append([]byte{0x08, 0x00, 0x30, 0x10, 0x01, 0x02}, gib...), ErrValueTooLong},
		{"1GiB sequence item", append(append([]byte{0x08, 0x00, 0x15, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0}, gib...), 0, 0), ErrValueTooLong},
		{"1GiB fragment", append([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0}, gib...), ErrValueTooLong},
		{"header cut short", []byte{0x08, 0x00, 0x20, 0x00, 'D', 'A', 8, 0, '2', '0'}, ErrValueTooLong},
		{"undefined sequence never closed", []byte{0x08, 0x00, 0x15, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := explicitLE(tt.dataSet)
			_, err := Parse(bytes.NewReader(data), int64(len(data)), "hostile.dcm")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestTruncatedPrefixes parses every prefix of real files: no panic, and any
// prefix that cuts into an element is an error (never a silently shorter data set
// that still claims pixel data).
func TestTruncatedPrefixes(t *testing.T) {
	for _, name := range []string{"mr_small_explicit_le.dcm", "mr_small_implicit_le.dcm", "mr_small_big_endian.dcm", "mr_small_rle.dcm", "deflated_dataset_with_sq.dcm"} {
		data, err := os.ReadFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		full, err := Parse(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for n := 0; n < len(data); n += 1 + n/64 {
			f, err := Parse(bytes.NewReader(data[:n]), int64(n), name)
			if err == nil && full.Pixel != nil && f.Pixel != nil && !f.Pixel.Encapsulated && f.Pixel.Length != full.Pixel.Length {
				t.Fatalf("%s cut at %d: accepted with shorter pixel data", name, n)
			}
			if _, merr := ParseBytes(data[:n], name); (merr == nil) != (err == nil) {
				t.Fatalf("%s cut at %d: Parse says %v, ParseBytes %v", name, n, err, merr)
			}
		}
	}
}

// FuzzParse feeds arbitrary bytes to the parser, seeded from the corpus. It must
// never panic, never allocate more than the input allows, read the same
// through its window (Parse) as in place (ParseBytes), and refuse bad input
// with an *Error that names the file and wraps one of the package's sentinels.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "files", "*.dcm"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 256<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		var file, mem *File
		var err, merr error
		// The allocation bound the budgets promise (budget.go): the read
		// window and a copy of the input, twice the data set budget (lists
		// double as they grow), and for a deflated data set 1.5 times the
		// inflated ceiling, for each of the two parses.
		bound := 2 * (uint64(windowSize) + 2*uint64(len(data)) + 2*MaxDataSetMemory)
		if bytes.Contains(data, []byte(DeflatedExplicitVRLittleEndian)) {
			bound += 2 * MaxInflatedSize * 3 / 2
		}
		if got, over := allocs.Bytes(bound, func() {
			file, err = Parse(bytes.NewReader(data), int64(len(data)), "fuzz.dcm")
			mem, merr = ParseBytes(bytes.Clone(data), "fuzz.dcm")
		}); over {
			t.Fatalf("parsing %d bytes allocated %d, bound %d", len(data), got, bound)
		}
		if (err == nil) != (merr == nil) {
			t.Fatalf("Parse: %v; ParseBytes: %v", err, merr)
		}
		if err != nil {
			// A clear error: it names the file and says what kind of
			// damage, by a sentinel callers can branch on.
			var pe *Error
			if !errors.As(err, &pe) || pe.Name != "fuzz.dcm" || !strings.Contains(err.Error(), "fuzz.dcm") {
				t.Fatalf("error %v does not name the file", err)
			}
			known := false
			for _, s := range []error{ErrNotDICOM, ErrTruncated, ErrValueTooLong, ErrNoTransferSyntax, ErrMalformed, ErrBudget, ErrOutOfRange, ErrBadPixelData} {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error %v wraps none of the package's sentinels", err)
			}
			return
		}
		a, _ := json.Marshal(file.Info())
		b, _ := json.Marshal(mem.Info())
		if !bytes.Equal(a, b) {
			t.Fatalf("Parse and ParseBytes differ:\n%s\n%s", a, b)
		}
		_ = file.Validate()
		_ = file.Info()
	})
}

// missing skips a test or benchmark whose input or peer is missing, or fails
// it under CI=true, where every dependency must be present: a benchmark that
// quietly skips measures nothing.
func missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(err)
	}
	tb.Skip(err)
}

func BenchmarkParseCT(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	if err != nil {
		missing(b, err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), int64(len(data)), "ct"); err != nil {
			b.Fatal(err)
		}
	}
}
