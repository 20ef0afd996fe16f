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

// peerTable compares Teleread's rates with one peer command's, raw and with the
// peer's start-up subtracted. amount is what each run moves (instances, MB) in
// unit; the peer took peerTime (or failed with peerErr) and starts up in
// startup (or startupErr).
type peerTable struct {
	*table
	amount, peerRate, peerRateC float64
	unit, peer, peerC           string
}

func newPeerTable(peerName, floorHead string, amount float64, unit string, peerTime time.Duration, peerErr error, startup time.Duration, startupErr error) *peerTable {
	t := &peerTable{table: newTable("measure", "Teleread", peerName, "ratio", peerName+" minus start-up", "ratio", floorHead),
		amount: amount, unit: unit, peer: na(peerErr)}
	if peerErr == nil {
		t.peerRate = amount / peerTime.Seconds()
		t.peer = rate(amount, peerTime, unit)
	}
	t.peerC, t.peerRateC = corrected(amount, peerTime, startup, startupErr, unit)
	if t.peerRateC == 0 && startupErr == nil {
		t.notes = append(t.notes, startupNote)
	}
	return t
}

// row adds Teleread's figure for one way of doing the work. floor, when not
// nil, gives the verdict cell from Teleread's and the peer's rates; extra
// follows the rate.
func (t *peerTable) row(name string, d time.Duration, err error, extra string, floor func(ours, peer float64) string) {
	if err != nil {
		t.add(name, na(err), t.peer, "", t.peerC, "", "")
		return
	}
	ours := t.amount / d.Seconds()
	v := ""
	if floor != nil {
		v = floor(ours, t.peerRate)
	}
	t.add(name, rate(t.amount, d, t.unit)+extra, t.peer, ratio(ours, t.peerRate), t.peerC, ratio(ours, t.peerRateC), v)
}
