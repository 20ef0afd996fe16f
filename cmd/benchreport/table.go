package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table is a section's rows, printed with aligned columns.
type table struct {
	head  []string
	rows  [][]string
	notes []string
}

func newTable(head ...string) *table { return &table{head: head} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *table) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.head, "\t"))
	dashes := make([]string, len(t.head))
	for i, h := range t.head {
		dashes[i] = strings.Repeat("-", len(h))
	}
	fmt.Fprintln(tw, strings.Join(dashes, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	for _, n := range t.notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// na is a cell for a figure that could not be measured.
func na(reason any) string { return fmt.Sprintf("n/a (%v)", reason) }

// rate formats count/d as "1,234 unit/s".
func rate(count float64, d time.Duration, unit string) string {
	if d <= 0 {
		return "n/a"
	}
	return sig(count/d.Seconds()) + " " + unit + "/s"
}

// ratio formats ours/peer (rates) as "1.23x".
func ratio(ours, peer float64) string {
	if ours <= 0 || peer <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", ours/peer)
}

// ms formats a duration in milliseconds with three significant digits.
func ms(d time.Duration) string {
	return sig(float64(d)/float64(time.Millisecond)) + " ms"
}

// sig formats x with about three significant digits and thousands separators.
func sig(x float64) string {
	switch {
	case x >= 1000:
		return thousands(int64(x + 0.5))
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// verdict says whether a figure meets a floor or goal ("ok" / "MISSED").
func verdict(met bool) string {
	if met {
		return "ok"
	}
	return "MISSED"
}
