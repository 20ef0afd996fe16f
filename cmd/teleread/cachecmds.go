package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	gosync "sync"
	"time"

	"teleread/cache"
)

func runImport(g *globals, args []string) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	quiet := fs.Bool("q", false, "print only the summary and rejected files")
	paths, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "usage: teleread import PATH...")
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	tty := !*quiet && isTerminal(os.Stderr)
	total := 0
	if tty {
		total = countFiles(paths)
	}
	line := newLiveLine(tty)
	start := time.Now()
	n := 0
	var bytes int64
	var mu gosync.Mutex
	sum := c.ImportPaths(paths, func(name string, res cache.Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		bytes += res.Size
		t := total
		if n > t {
			t = 0 // zip members: the count of files on disk is no total
		}
		line.draw("import: " + progressLine("files", n, t, bytes, time.Since(start)))
	})
	line.clear()
	for _, r := range sum.Rejected {
		fmt.Fprintf(stdout, "rejected: %q: %s\n", r.Name, r.Reason)
	}
	for _, r := range sum.Conflicts {
		fmt.Fprintf(stdout, "conflict: %q: %s\n", r.Name, r.Reason)
	}
	fmt.Fprintf(stdout, "imported %d, already present %d, conflicts %d, rejected %d (%d studies)\n",
		sum.Imported, sum.AlreadyPresent, len(sum.Conflicts), len(sum.Rejected), len(sum.Studies))
	if sum.AuditErr != nil {
		return fail(sum.AuditErr)
	}
	if len(sum.Rejected) > 0 || len(sum.Conflicts) > 0 {
		return 1
	}
	return 0
}

func runStudies(g *globals, args []string) int {
	return listCached(g, "studies", args, (*cache.Cache).Studies, func(s cache.Study) {
		fmt.Fprintf(stdout, "%-10s %-24s %-12s %-8v %3d series %4d instances  %s  %s\n", s.StudyDate, s.PatientName, s.PatientID,
			s.ModalitiesInStudy, s.NumberOfSeries, s.NumberOfInstances, s.StudyDescription, s.StudyInstanceUID)
	})
}

// listCached is the shape of the listing commands: open the cache, read a
// list, print it as JSON (--json) or one line per item.
func listCached[T any](g *globals, name string, args []string, list func(*cache.Cache) ([]T, error), line func(T)) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := interleaved(fs, args); err != nil {
		return 2
	}
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	items, err := list(c)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		return printJSON(items)
	}
	for _, it := range items {
		line(it)
	}
	return 0
}

func runInfo(g *globals, args []string) int {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	paths, err := interleaved(fs, args)
	if err != nil {
		return 2
	}
	if len(paths) != 1 {
		fmt.Fprintln(stderr, "usage: teleread info [--json] FILE")
		return 2
	}
	f, _, done, err := openInput(g, paths[0])
	if err != nil {
		return fail(err)
	}
	defer done()
	if err := f.Validate(); err != nil {
		return fail(err)
	}
	in := f.Info()
	if *asJSON {
		return printJSON(in)
	}
	b, _ := json.Marshal(in)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range infoOrder {
		v := m[k]
		if v == nil {
			v = "-"
		}
		fmt.Fprintf(stdout, "%-26s %v\n", k, v)
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(stdout, "%-26s %s\n", "Warning", w)
	}
	return 0
}

var infoOrder = []string{"TransferSyntaxUID", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
	"Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored",
	"PixelRepresentation", "PlanarConfiguration", "RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"}

func runVerify(g *globals, args []string) int {
	c, err := g.openCache()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	probs, err := c.Verify()
	if err != nil {
		return fail(err)
	}
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(stdout, "%d problems\n", len(probs))
		return 1
	}
	fmt.Fprintln(stdout, "cache OK")
	return 0
}

func printJSON(v any) int {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(err)
	}
	return 0
}

// countFiles counts the regular files under paths, the total an import's
// progress line shows; unreadable entries are left to the import to report.
func countFiles(paths []string) int {
	n := 0
	for _, p := range paths {
		filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				n++
			}
			return nil
		})
	}
	return n
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

var priorityNames = []string{"STAT", "HIGH", "ROUTINE", "LOW"}

// workItem is a worklist row with its due time by the configured turnaround.
type workItem struct {
	cache.WorkItem
	Due     string `json:",omitempty"` // RFC 3339; "" for a prior or a row without an assignment time
	Overdue bool   // past Due and not yet reported
}

func runWorklist(g *globals, args []string) int {
	conf, err := loadConfig()
	if err != nil {
		return fail(err)
	}
	target, now := conf.Turnaround(), time.Now()
	list := func(c *cache.Cache) ([]workItem, error) {
		rows, err := c.Worklist()
		if err != nil {
			return nil, err
		}
		reported, err := reportedStudies(c)
		if err != nil {
			return nil, err
		}
		out := make([]workItem, len(rows))
		for i, w := range rows {
			out[i].WorkItem = w
			at, err := time.Parse(time.RFC3339Nano, w.AssignedAt)
			if w.Role != "assigned" || err != nil {
				continue
			}
			due := target.Due(w.Priority, at)
			out[i].Due = due.Format(time.RFC3339)
			out[i].Overdue = now.After(due) && !reported[w.StudyInstanceUID]
		}
		return out, nil
	}
	return listCached(g, "worklist", args, list, func(w workItem) {
		prio := "?"
		if w.Priority >= 0 && w.Priority < len(priorityNames) {
			prio = priorityNames[w.Priority]
		}
		due := ""
		if w.Due != "" {
			t, _ := time.Parse(time.RFC3339, w.Due)
			due = "due " + t.Local().Format("2006-01-02 15:04")
			if w.Overdue {
				due = "OVERDUE " + due
			}
		}
		fmt.Fprintf(stdout, "%-8s %-8s %-10s %-10s %4d/%-4d  %s  %s  %s\n", prio, w.Role, w.State, w.StudyDate, w.Done, w.Total, due, w.Description, w.StudyInstanceUID)
	})
}

// reportedStudies are the studies with a signed report (the turnaround is
// met once the report is signed, delivered or not).
func reportedStudies(c *cache.Cache) (map[string]bool, error) {
	items, err := c.Outbox()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, it := range items {
		out[it.StudyInstanceUID] = true
	}
	return out, nil
}
