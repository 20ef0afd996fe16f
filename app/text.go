package app

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func fmtFloat0(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) }
