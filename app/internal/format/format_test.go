package format

import "testing"

func TestPersonName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"family and given", "Doe^Jane", "Doe, Jane"},
		{"middle name", "Doe^Jane^Q", "Doe, Jane Q"},
		{"prefix and suffix are not shown", "Doe^Jane^Q^Dr^PhD", "Doe, Jane Q"},
		{"family only", "Doe", "Doe"},
		{"blank components", "Doe^^", "Doe"},
		{"three groups (PS3.5 H.3.1)", "Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou = 山田 太郎 = やまだ たろう"},
		{"ideographic only", "=王^小东", "王 小东"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PersonName(tt.in); got != tt.want {
				t.Errorf("PersonName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAgeSex(t *testing.T) {
	tests := []struct{ name, birth, study, sex, want string }{
		{"years", "19700615", "20240614", "F", "53Y/F"},
		{"birthday that day", "19700615", "20240615", "M", "54Y/M"},
		{"months under two years", "20230101", "20240101", "", "12M"},
		{"days of a newborn", "20240101", "20240111", "O", "10D/O"},
		{"no birth date", "", "20240101", "F", "F"},
		{"study before birth", "20240102", "20240101", "F", "F"},
		{"nothing", "", "", " ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AgeSex(tt.birth, tt.study, tt.sex); got != tt.want {
				t.Errorf("AgeSex(%q, %q, %q) = %q, want %q", tt.birth, tt.study, tt.sex, got, tt.want)
			}
		})
	}
}

func TestDateAndTime(t *testing.T) {
	tests := []struct{ in, wantDate, wantTime string }{
		{"20240229", "2024-02-29", "20:24"},
		{"093015.123", "093015.123", "09:30"},
		{"12", "12", "12"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Date(tt.in); got != tt.wantDate {
			t.Errorf("Date(%q) = %q, want %q", tt.in, got, tt.wantDate)
		}
		if got := Time(tt.in); got != tt.wantTime {
			t.Errorf("Time(%q) = %q, want %q", tt.in, got, tt.wantTime)
		}
	}
}
