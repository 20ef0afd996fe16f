// Command benchreport measures Teleread's figures beside those of its peers
// (dcmdump, gdcmconv, curl) and prints them as a table with ratios: our rate
// divided by the peer's, so a ratio above 1 means Teleread is faster.
//
// Every figure is the median of several runs (machines are noisy; -runs sets
// how many). Peers are timed by running their commands; where a peer's time is
// mostly process start-up, a start-up-corrected figure is shown beside it: the
// median time of the same command on a trivial input, subtracted.
//
// Sections: import, decode, render, retrieve, gpu, app, seal, homelink (-only
// picks some; seal needs a teleread_bench build, as make bench runs it;
// homelink needs root). A
// section or row whose parts are missing prints "n/a (reason)" instead of
// failing. `make bench` runs it under Xvfb.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"teleread/cache"
)

// sections are the report's parts, in the order they are printed.
var sections = []struct {
	name  string
	title string
	run   func(*bench) error
}{
	{"import", "Import (issue 2)", benchImport},
	{"decode", "Decode (issue 3)", benchDecode},
	{"render", "CPU render (issue 3)", benchRender},
	{"retrieve", "Retrieve (issue 5)", benchRetrieve},
	{"gpu", "GPU and CPU renderers (issue 4)", benchGPU},
	{"app", "App (issue 7)", benchApp},
	{"seal", "Encryption at rest (issue 15)", benchSeal},
	{"homelink", "Home link (issue 17)", benchHomeLink},
}

// config holds the command line.
type config struct {
	only       map[string]bool // sections to run; empty means all
	corpus     string          // the corpus folder (holding MANIFEST.json and files/)
	instances  int             // instances in the generated series and study
	series     int             // series the retrieved study is split into
	runs       int             // runs per figure; the median is reported
	minTime    time.Duration   // each timed run of our code repeats it for at least this long
	cineFrames int             // frames per cine run
	files      map[string]bool // corpus ids the decode section is limited to; empty means all
	tmp        string          // scratch folder, removed at the end
	// homeLinkFull runs the home link at 10, 50 and 200 Mbit/s with -n
	// slices (by default only 50 Mbit/s, and at most 100 slices under CI).
	homeLinkFull bool
	// homeLinkRates, when not empty, are the down rates (Mbit/s) the home
	// link section runs instead (up a fifth of each).
	homeLinkRates []int
	// linkFastMbps is link_fast_mbps for the home link's syncs (0: the
	// default).
	linkFastMbps float64
}

// bench is one report being made.
type bench struct {
	config
	out io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the chosen sections and returns the exit status: 0
// unless the command line is wrong or the scratch folder cannot be made. A
// section that fails prints its error and the others still run.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated sections to run: import,decode,render,retrieve,gpu,app,seal,homelink (default all)")
	corpus := fs.String("corpus", "", "corpus folder with MANIFEST.json and files/ (default testdata/corpus in the module root)")
	n := fs.Int("n", 300, "instances in the generated CT series (import) and study (retrieve)")
	series := fs.Int("series", 1, "series the retrieved study is split into (the puller fetches series in parallel)")
	runs := fs.Int("runs", 5, "runs per figure; the median is reported")
	minTime := fs.Duration("mintime", 200*time.Millisecond, "each timed run of Teleread's code repeats it for at least this long")
	cine := fs.Int("cineframes", 60, "frames per cine run")
	homeRates := fs.String("homelink-rates", "", "home link section: only these down rates in Mbit/s, comma-separated (e.g. 50,200)")
	linkFast := fs.Float64("link-fast-mbps", 0, "home link section: link_fast_mbps for the syncs (0: the default)")
	homeFull := fs.Bool("homelink-full", false, "home link section: the 10, 50 and 200 Mbit/s rows with -n slices (default: 50 Mbit/s only; at most 100 slices under CI)")
	files := fs.String("files", "", "comma-separated corpus ids the decode section is limited to (default all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "benchreport: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg := config{only: map[string]bool{}, instances: *n, series: *series, runs: *runs, minTime: *minTime, cineFrames: *cine}
	if *n < 1 || *runs < 1 || *series < 1 || *series > *n || *cine < 1 {
		fmt.Fprintln(stderr, "benchreport: -n, -runs, -series and -cineframes must be at least 1, and -series at most -n")
		return 2
	}
	known := map[string]bool{}
	for _, s := range sections {
		known[s.name] = true
	}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !known[s] {
			fmt.Fprintf(stderr, "benchreport: unknown section %q (want import,decode,render,retrieve,gpu,app,seal,homelink)\n", s)
			return 2
		}
		cfg.only[s] = true
	}
	cfg.files = map[string]bool{}
	for _, id := range strings.Split(*files, ",") {
		if id = strings.TrimSpace(id); id != "" {
			cfg.files[id] = true
		}
	}
	cfg.corpus = *corpus
	cfg.homeLinkFull = *homeFull
	cfg.linkFastMbps = *linkFast
	for _, r := range strings.Split(*homeRates, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		v, err := strconv.Atoi(r)
		if err != nil || v <= 0 {
			fmt.Fprintf(stderr, "benchreport: -homelink-rates %q: want Mbit/s numbers\n", *homeRates)
			return 2
		}
		cfg.homeLinkRates = append(cfg.homeLinkRates, v)
	}
	// The scratch caches keep their master key wrapped by a throwaway
	// passphrase, with the real argon2id cost (paid when a cache is opened,
	// outside the timed runs): never in the keyring of whoever runs this.
	os.Setenv(cache.EnvKeystore, cache.KeystorePassphrase)
	os.Setenv(cache.EnvPassphrase, "benchreport scratch cache")
	if cfg.corpus == "" {
		cfg.corpus = defaultCorpus()
	}
	tmp, err := os.MkdirTemp("", "benchreport-")
	if err != nil {
		fmt.Fprintf(stderr, "benchreport: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	cfg.tmp = tmp

	b := &bench{config: cfg, out: stdout}
	fmt.Fprintf(stdout, "Teleread benchmark report, %s\n", time.Now().Format("2006-01-02 15:04 MST"))
	printMachine(stdout)
	fmt.Fprintf(stdout, "Each figure is the median of %d runs. Ratio = Teleread's rate / the peer's rate (>1: Teleread is faster).\n", cfg.runs)
	fmt.Fprintf(stdout, "Corpus: %s\n", cfg.corpus)
	for _, s := range sections {
		if len(cfg.only) > 0 && !cfg.only[s.name] {
			continue
		}
		fmt.Fprintf(stdout, "\n== %s\n", s.title)
		start := time.Now()
		if err := s.run(b); err != nil {
			fmt.Fprintf(stdout, "n/a (%v)\n", err)
		}
		fmt.Fprintf(stdout, "(section took %.1f s)\n", time.Since(start).Seconds())
	}
	return 0
}
