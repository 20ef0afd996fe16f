package cache

import "testing"

func TestParseStall(t *testing.T) {
	tests := []struct {
		in       string
		wantNil  bool
		wantStep string
		wantAt   int
	}{
		{"", true, "", 0},
		{"import-indexed", false, "import-indexed", 1},
		{"import-indexed:3", false, "import-indexed", 3},
		{"import-indexed:0", false, "import-indexed", 1},
		{"import-indexed:x", false, "import-indexed", 1},
	}
	for _, tt := range tests {
		got := parseStall(tt.in)
		if (got == nil) != tt.wantNil {
			t.Fatalf("parseStall(%q) = %v, want nil %v", tt.in, got, tt.wantNil)
		}
		if got != nil && (got.step != tt.wantStep || got.at != tt.wantAt) {
			t.Errorf("parseStall(%q) = %s:%d, want %s:%d", tt.in, got.step, got.at, tt.wantStep, tt.wantAt)
		}
	}
}
