package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"teleread/cache/cachetest"
)

// A SIGKILL cannot show a missing fsync: the page cache outlives the killed
// process. These tests watch the real commands' system calls with strace and
// check their order instead: each stored file's data synced before its
// rename into place, the rename synced before the index commit that names
// the file, a signed report's transaction synced before the command says it
// is signed.

// traceCalls are the system calls traced: file creation, every way of writing
// data, every way of syncing it, renames.
const traceCalls = "openat,write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,syncfs,sync,rename,renameat,renameat2"

func requireStrace(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace missing (Debian package strace)")
		}
		t.Skip(err)
	}
}

// tracedTeleread runs teleread under strace and returns its result and the
// system calls it made. Up to 4200 bytes of each write are kept: a whole
// SQLite page, so that the index write naming a file can be found.
func tracedTeleread(t *testing.T, home string, args ...string) (result, []sysCall) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.txt")
	cmd := exec.Command("strace", append([]string{"-f", "-y", "-qq", "-e", "signal=none", "-s", "4200",
		"-e", "trace=" + traceCalls, "-o", out, binPath, "--home", home}, args...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	cmd.Env = append(os.Environ(), "TELEREAD_CONFIG="+filepath.Join(t.TempDir(), "none.json"))
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("strace teleread %v: %v", args, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	calls := parseTrace(string(b))
	if len(calls) == 0 {
		t.Fatalf("strace recorded no system calls (is ptrace allowed here?): %s", r.stderr)
	}
	return r, calls
}

// sysCall is one traced system call; start and end are the trace lines where
// it was entered and where it returned (strace splits a call that another
// thread interrupts into "<unfinished ...>" and "<... resumed>").
type sysCall struct {
	pid, name, args, ret string
	start, end           int
}

var (
	reCall   = regexp.MustCompile(`^([a-z0-9_]+)\((.*)$`)
	reFD     = regexp.MustCompile(`^\d+<([^>]*)>`)
	reRet    = regexp.MustCompile(`\)\s+=\s+(\S+)[^)]*$`)
	reQuoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

func parseTrace(s string) []sysCall {
	var calls []sysCall
	pending := map[string]int{}
	for i, line := range strings.Split(s, "\n") {
		pid, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "<... ") {
			if j, ok := pending[pid]; ok {
				calls[j].end = i
				calls[j].ret = retOf(rest)
				delete(pending, pid)
			}
			continue
		}
		m := reCall.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		c := sysCall{pid: pid, name: m[1], args: m[2], start: i, end: i}
		if strings.HasSuffix(rest, "<unfinished ...>") {
			c.end = -1 // until resumed; a call never resumed never completed
			pending[pid] = len(calls)
		} else {
			c.ret = retOf(rest)
		}
		calls = append(calls, c)
	}
	return calls
}

// retOf returns a call's return value: strace pads short calls, so "= 0"
// may follow the closing parenthesis after several spaces.
func retOf(line string) string {
	m := reRet.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return m[1]
}

// fd returns the path strace printed for the call's first argument (-y).
func (c sysCall) fd() string {
	if m := reFD.FindStringSubmatch(c.args); m != nil {
		return m[1]
	}
	return ""
}

func (c sysCall) done() bool { return c.end >= 0 }

func (c sysCall) isWrite() bool {
	switch c.name {
	case "write", "pwrite64", "writev", "pwritev", "pwritev2":
		return true
	}
	return false
}

// syncs reports whether the call made what was written to path (a file or a
// directory) durable: an fsync or fdatasync of a descriptor of that path, or
// a syncfs of the filesystem under home.
func (c sysCall) syncs(path, home string) bool {
	if !c.done() || c.ret != "0" {
		return false
	}
	switch c.name {
	case "fsync", "fdatasync":
		return c.fd() == path
	case "syncfs":
		return strings.HasPrefix(c.fd()+"/", home+"/")
	case "sync":
		return true
	}
	return false
}

// syncedBetween reports whether a call made path durable after line from and
// before line to.
func syncedBetween(calls []sysCall, path, home string, from, to int) bool {
	for _, c := range calls {
		if c.start > from && c.done() && c.end < to && c.syncs(path, home) {
			return true
		}
	}
	return false
}

// placement is one rename of a staged file into the cache's files/.
type placement struct {
	sysCall
	from, to, rel string
}

func placements(calls []sysCall, home string) []placement {
	files := filepath.Join(home, "files") + "/"
	var out []placement
	for _, c := range calls {
		if !strings.HasPrefix(c.name, "rename") || !c.done() || c.ret != "0" {
			continue
		}
		q := reQuoted.FindAllStringSubmatch(c.args, -1)
		if len(q) != 2 || !strings.HasPrefix(q[1][1], files) || !strings.HasSuffix(q[1][1], ".dcm") {
			continue
		}
		out = append(out, placement{sysCall: c, from: q[0][1], to: q[1][1], rel: strings.TrimPrefix(q[1][1], files)})
	}
	return out
}

// firstIndexWrite returns the first write to the index (its write-ahead log
// or the database file) whose data contains s, or -1.
func firstIndexWrite(calls []sysCall, home, s string) int {
	wal, db := filepath.Join(home, "index.db-wal"), filepath.Join(home, "index.db")
	for i, c := range calls {
		if c.isWrite() && (c.fd() == wal || c.fd() == db) && strings.Contains(c.args, s) {
			return i
		}
	}
	return -1
}

// violations collects broken rules with one example each, so that a broken
// rule is reported once, not once per file.
type violations struct {
	count   map[string]int
	example map[string]string
	order   []string
}

func (v *violations) add(rule, example string) {
	if v.count == nil {
		v.count, v.example = map[string]int{}, map[string]string{}
	}
	if v.count[rule] == 0 {
		v.order = append(v.order, rule)
		v.example[rule] = example
	}
	v.count[rule]++
}

func (v *violations) report(t *testing.T, total int) {
	t.Helper()
	for _, rule := range v.order {
		t.Errorf("%s: %d of %d files, e.g. %s", rule, v.count[rule], total, v.example[rule])
	}
}

// checkPlacedDurably checks every file the traced command renamed into the
// cache: its data was synced (fsync of its descriptor or syncfs) after its
// last write and before the rename; the rename was synced (fsync of its
// directory or syncfs) before the first index write naming the file. It
// returns how many files were placed.
func checkPlacedDurably(t *testing.T, calls []sysCall, home string) int {
	t.Helper()
	var v violations
	ps := placements(calls, home)
	for _, p := range ps {
		lastWrite := -1
		for _, c := range calls {
			if c.isWrite() && c.fd() == p.from && c.done() && c.end < p.start {
				lastWrite = max(lastWrite, c.end)
			}
		}
		switch {
		case lastWrite < 0:
			v.add("no data written to the staged file before its rename", p.from)
		case !syncedBetween(calls, p.from, home, lastWrite, p.start):
			v.add("data not synced between its last write and its rename into place", p.rel)
		}
		ix := firstIndexWrite(calls, home, p.rel)
		switch {
		case ix < 0:
			v.add("no index write names the file", p.rel)
		case calls[ix].start < p.end:
			v.add("the index named the file before it was renamed into place", p.rel)
		case !syncedBetween(calls, filepath.Dir(p.to), home, p.end, calls[ix].start):
			v.add("rename not synced (directory fsync or syncfs) before the index write naming the file", p.rel)
		}
	}
	v.report(t, len(ps))
	return len(ps)
}

// TestImportDurableTrace traces `teleread import` of a folder (staged in
// groups, made durable with syncfs) and a zip archive (each member imported
// alone, with an fsync of its file and of its directory).
func TestImportDurableTrace(t *testing.T) {
	requireCorpus(t)
	requireStrace(t)
	src := t.TempDir()
	if _, err := cachetest.MakeSeries(filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"), filepath.Join(src, "series"), 70); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(src, "shared.zip")
	writeZip(t, zipPath, "mr_small_explicit_le.dcm", "ct2_jpeg_lossless_sv1.dcm")

	home := t.TempDir()
	r, calls := tracedTeleread(t, home, "import", filepath.Join(src, "series"), zipPath)
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := checkPlacedDurably(t, calls, home); n != 72 {
		t.Errorf("%d files renamed into the cache, want 72", n)
	}
}

func writeZip(t *testing.T, path string, corpusFiles ...string) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range corpusFiles {
		data, err := os.ReadFile(filepath.Join(corpusDir, "files", name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignDurableTrace traces `teleread report --sign`: the transaction that
// stores the signed report and its outbox row reaches the write-ahead log
// and is synced there before the command says the report is signed.
func TestSignDurableTrace(t *testing.T) {
	requireCorpus(t)
	requireStrace(t)
	home := t.TempDir()
	teleread(t, home, "import", filepath.Join(corpusDir, "files", "ct_small_explicit_le.dcm"))
	study := "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	if r := teleread(t, home, "report", "--study", study, "--findings", "No change.", "--impression", "Stable."); r.code != 0 {
		t.Fatalf("draft: %s", r.stderr)
	}
	r, calls := tracedTeleread(t, home, "report", "--study", study, "--sign")
	if r.code != 0 {
		t.Fatalf("sign: exit %d\n%s", r.code, r.stderr)
	}
	m := regexp.MustCompile(`signed: SR ([0-9.]+) `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no SR UID in %q", r.stdout)
	}
	checkSignedDurably(t, calls, home, m[1])
}

// checkSignedDurably finds the write of "signed: SR uid" to stdout and checks
// that before it the index was written with the SR's UID and the
// write-ahead log synced after the signing transaction wrote it.
func checkSignedDurably(t *testing.T, calls []sysCall, home, uid string) {
	t.Helper()
	wal := filepath.Join(home, "index.db-wal")
	said := -1
	for i, c := range calls {
		if c.name == "write" && strings.Contains(c.args, "signed: SR "+uid) {
			said = i
			break
		}
	}
	if said < 0 {
		t.Fatal("the trace has no write of the \"signed\" message")
	}
	ix := firstIndexWrite(calls, home, uid)
	if ix < 0 || ix > said {
		t.Fatalf("no write of the signed report's UID to the index before the command said it was signed (index write %d, message %d)", ix, said)
	}
	// The signing transaction's frames are the write-ahead log's writes from
	// ix on. A later transaction (the audit dating the study's last access,
	// at the index's normal synchronous level) may write the log after it
	// without a sync of its own, so the promise is not "no write after the
	// last sync" but: the log is synced after the signing transaction's
	// writes and before the message.
	synced := -1
	for i := ix; i < said; i++ {
		if calls[i].done() && calls[i].syncs(wal, home) {
			synced = i
			break
		}
	}
	if synced < 0 {
		t.Fatalf("the write-ahead log was not synced after the signing transaction's writes (from trace line %d) and before the \"signed\" message (line %d): a power cut could lose a report the reader was told is signed",
			calls[ix].end+1, calls[said].start+1)
	}
	for i := ix; i < synced; i++ {
		if calls[i].isWrite() && calls[i].fd() == wal && calls[i].done() {
			return
		}
	}
	t.Fatalf("the signed report's transaction is not in the write-ahead log before its sync")
}

// String formats a call for failure messages.
func (c sysCall) String() string {
	a := c.args
	if len(a) > 160 {
		a = a[:160] + "..."
	}
	return fmt.Sprintf("%s(%s = %s", c.name, a, c.ret)
}
