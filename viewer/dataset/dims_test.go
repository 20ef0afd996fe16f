package dataset

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// hostileDir holds the small crafted files (see its README).
const hostileDir = "../../testdata/hostile"

// TestDimsHostile carries the headers whose products overflowed: Rows as IS
// 4611686018427387905 with Columns 4 wrapped to 16 samples and was imported,
// then panicked in image.NewGray; Rows 4294967297 x Columns 4294967295 wrapped
// to -1 and panicked in makeslice. Each must fail Dims and Validate with the
// reason, before anything is sized from it.
func TestDimsHostile(t *testing.T) {
	tests := []struct {
		file    string
		wantErr error
	}{
		{"rows_overflow_is.dcm", ErrOutOfRange},
		{"rows_cols_wrap.dcm", ErrOutOfRange},
		{"rows_negative.dcm", ErrOutOfRange},
		{"frames_huge.dcm", ErrOutOfRange},
		{"frames_encapsulated.dcm", ErrOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := Open(filepath.Join(hostileDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Dims(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Dims: got %v, want %v", err, tt.wantErr)
			}
			err = f.Validate()
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrBadPixelData) {
				t.Errorf("Validate: got %v, want %v and %v", err, tt.wantErr, ErrBadPixelData)
			}
		})
	}
}

// TestDimsCorpus: every real file of the corpus with pixel data passes Dims,
// so the ranges refuse only what no real image declares.
func TestDimsCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "files", "*"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no corpus files")
		}
		t.Skip("no corpus files")
	}
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			continue // the corpus keeps broken files too; parse errors are tested elsewhere
		}
		if f.Pixel != nil && f.Has(Rows) {
			if _, err := f.Dims(); errors.Is(err, ErrOutOfRange) {
				t.Errorf("%s: real file out of range: %v", filepath.Base(p), err)
			}
		}
		f.Close()
	}
}

func TestMulInt64(t *testing.T) {
	tests := []struct {
		a, b   int64
		want   int64
		wantOK bool
	}{
		{65535, 65535, 4294836225, true},
		{4611686018427387905, 4, 0, false},
		{4294967297, 4294967295, 0, false},
		{math.MaxInt64, 1, math.MaxInt64, true},
		{math.MaxInt64, 2, 0, false},
		{-1, 4, 0, false},
		{0, math.MaxInt64, 0, true},
	}
	for _, tt := range tests {
		got, ok := MulInt64(tt.a, tt.b)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MulInt64(%d, %d) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.wantOK)
		}
	}
}
