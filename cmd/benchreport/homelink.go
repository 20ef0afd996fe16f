package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"teleread/cache"
	"teleread/cache/cachetest"
	"teleread/sync"
	"teleread/sync/orthanctest"
)

// homeLinkFloor is issue 17's floor: `teleread sync --once` over curl of the
// stored study, on the home link of 50/10 Mbit/s. The other rates are there
// to show where transcoding stops paying (on a fast link the transfer of
// stored bytes costs less than the archive's transcoding), so they carry no
// floor.
const homeLinkFloor = 2.5

// homeLinkFloorRate is the download rate, Mbit/s, the floor is set for.
const homeLinkFloorRate = 50

// linkRate is one shaped line: down is the archive's way to the reader.
type linkRate struct{ downMbit, upMbit int }

// benchHomeLink puts a private Orthanc in a network namespace behind a veth
// pair shaped with tc tbf, loads a synthetic uncompressed CT into it (before
// shaping), and times curl of the stored study beside `teleread sync --once`
// and beside the puller's own milestones (first instance durable, the first
// series complete, the study ready).
func benchHomeLink(b *bench) error {
	ci := os.Getenv("CI") == "true"
	if os.Geteuid() != 0 {
		if ci {
			return errors.New("FAILED: needs root to make a network namespace and shape it with tc")
		}
		return errors.New("skipped: needs root to make a network namespace and shape it with tc")
	}
	for _, tool := range []string{"ip", "tc", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: %w", tool, err)
		}
	}
	slicesN := b.instances
	rates := []linkRate{{50, 10}}
	if b.homeLinkFull {
		rates = []linkRate{{10, 2}, {50, 10}, {200, 40}}
	} else if len(b.homeLinkRates) > 0 {
		rates = nil
		for _, r := range b.homeLinkRates {
			rates = append(rates, linkRate{r, max(1, r/5)})
		}
	} else if ci {
		// Under CI the section must fit in about three minutes.
		slicesN = min(slicesN, 100)
	}
	bin, err := b.telereadBinary()
	if err != nil {
		return err
	}

	const study = "1.2.826.0.1.3680043.10.1107.17.1"
	const accession = "HOMELINK1"
	paths, err := cachetest.WriteCTSeries(cachetest.CTSeries{
		Dir: filepath.Join(b.tmp, "homelink-study"), StudyUID: study, SeriesUID: study + ".1", SeriesNumber: 1,
		Slices: slicesN, Accession: accession, Reader: "BENCH^READER", Seed: 17,
	})
	if err != nil {
		return err
	}
	var payload int64
	for _, p := range paths {
		payload += fileSize(p)
	}

	nl, err := newNetLink(os.Getpid())
	if err != nil {
		return err
	}
	defer nl.close()
	srv, err := orthanctest.Start(filepath.Join(b.tmp, "homelink-orthanc"), orthanctest.Options{
		Wrap: []string{"ip", "netns", "exec", nl.ns}, Host: nl.nsAddr, StartTimeout: 60 * time.Second,
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := uploadAll(srv, paths); err != nil { // unshaped: the upload is not what is measured
		return err
	}
	if err := settleDisk(); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "Synthetic CT phantom, %d slices 512x512 16-bit stored uncompressed (%.1f MB), in a private Orthanc\n", len(paths), float64(payload)/1e6)
	fmt.Fprintf(b.out, "in a network namespace behind a veth pair shaped with tc tbf (no added delay: tc netem is not\n")
	fmt.Fprintf(b.out, "available on these kernels, so the RTT is the veth's, well under 1 ms).\n")

	t := newTable("link (down/up)", "curl stored", "teleread sync --once", "ratio", "floor 2.5x at 50/10", "sync asked for",
		"again, estimate kept", "ratio", "then asked for", "first slice durable", "first series complete", "study ready")
	for _, r := range rates {
		if err := nl.shape(r); err != nil {
			return err
		}
		curlT, curlBytes, curlErr := curlStudy(srv.DICOMwebURL, study, filepath.Join(b.tmp, "homelink-curl.bin"))
		os.Remove(filepath.Join(b.tmp, "homelink-curl.bin"))
		syncT, asked, links, syncErr := b.syncOnce(bin, srv.DICOMwebURL, accession, nil)
		var againT time.Duration
		againAsked, againErr := "", syncErr
		if syncErr == nil {
			againT, againAsked, _, againErr = b.syncOnce(bin, srv.DICOMwebURL, accession, links)
		}
		mst, msErr := b.pullMilestones(srv.DICOMwebURL, study, len(paths), sync.SliceOrderArchive)
		row := []string{fmt.Sprintf("%d/%d Mbit/s", r.downMbit, r.upMbit)}
		if curlErr != nil {
			row = append(row, na(curlErr))
		} else {
			row = append(row, fmt.Sprintf("%.1f s (%.1f MB)", curlT.Seconds(), float64(curlBytes)/1e6))
		}
		if syncErr != nil {
			row = append(row, na(syncErr), "n/a", "n/a", "n/a")
		} else {
			row = append(row, fmt.Sprintf("%.1f s", syncT.Seconds()))
			if curlErr != nil {
				row = append(row, "n/a", "n/a")
			} else {
				x := curlT.Seconds() / syncT.Seconds()
				v := "(no floor)"
				if r.downMbit == homeLinkFloorRate {
					v = verdict(x >= homeLinkFloor)
				}
				row = append(row, fmt.Sprintf("%.2fx", x), v)
			}
			row = append(row, asked)
		}
		if againErr != nil {
			row = append(row, na(againErr), "n/a", "n/a")
		} else {
			row = append(row, fmt.Sprintf("%.1f s", againT.Seconds()), "n/a", againAsked)
			if curlErr == nil {
				row[len(row)-2] = fmt.Sprintf("%.2fx", curlT.Seconds()/againT.Seconds())
			}
		}
		if msErr != nil {
			row = append(row, na(msErr), "n/a", "n/a")
		} else {
			row = append(row, fmt.Sprintf("%.2f s", mst.first.Seconds()), fmt.Sprintf("%.1f s", mst.series.Seconds()), fmt.Sprintf("%.1f s", mst.ready.Seconds()))
		}
		t.add(row...)
	}
	t.note("curl: one WADO-RS study request, transfer-syntax=* (the stored bytes), into a file.")
	t.note("sync asked for: the link policy's choice after the sync, and its estimate (the sync's \"link:\" line; link_fast_mbps %s).", linkFastNote(b.linkFastMbps))
	t.note("again, estimate kept: the same sync into another fresh cache whose home holds the first one's links.json (what the next sync of a reader starts from).")
	t.note("teleread sync --once: the whole command (cache opening with its key derivation, worklist, negotiation, fetch, ready), fresh cache each run.")
	t.note("milestones: the puller in this process against a fresh cache, from its start: the first instance durable (the study can open),")
	t.note("every slice of the series the reader sees first, and every instance durable (ready). One run each: the link dominates.")
	if !b.homeLinkFull {
		t.note("-homelink-full adds the 10 and 200 Mbit/s rows (where the crossover of the transcoding cost shows) and keeps %d slices under CI.", b.instances)
	}
	t.print(b.out)

	// The order of the first series' slices, at 50 Mbit/s: what the viewer
	// opens a series on is its first slice in stack order (cache.InstancesOf),
	// and the reader scrolls on from there.
	if err := nl.shape(linkRate{50, 10}); err != nil {
		return err
	}
	ot := newTable("order of the first series (50/10 Mbit/s)", "slice the viewer opens on", fmt.Sprintf("first %d slices of the stack", stackHead), "series complete", "first slice durable")
	for _, o := range []struct {
		name  string
		order sync.SliceOrder
	}{{"stack order, one instance at a time", sync.SliceOrderStack}, {"middle out, one instance at a time", sync.SliceOrderMiddleOut}, {"the archive's, one series request", sync.SliceOrderArchive}} {
		m, err := b.pullMilestones(srv.DICOMwebURL, study, len(paths), o.order)
		if err != nil {
			ot.add(o.name, na(err), "n/a", "n/a", "n/a")
			continue
		}
		ot.add(o.name, fmt.Sprintf("%.2f s", m.opening.Seconds()), fmt.Sprintf("%.2f s", m.around.Seconds()), fmt.Sprintf("%.1f s", m.series.Seconds()), fmt.Sprintf("%.2f s", m.first.Seconds()))
	}
	ot.note("the viewer opens a series on its first slice in stack order (Instance Number); times from the puller's start, fresh cache, one run each.")
	ot.print(b.out)
	return nil
}

// telereadBinary returns bin/teleread from the module root (`make bench`
// builds it), or builds one into the scratch folder.
func (b *bench) telereadBinary() (string, error) {
	root := moduleRoot(filepath.Dir(b.corpus))
	if root == "" {
		root = moduleRoot(".")
	}
	if root != "" {
		if p := filepath.Join(root, "bin", "teleread"); isRegular(p) {
			return p, nil
		}
	}
	p := filepath.Join(b.tmp, "teleread")
	cmd := exec.Command("go", "build", "-o", p, "teleread/cmd/teleread")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build teleread: %w: %s", err, tail(out, 400))
	}
	return p, nil
}

func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// curlStudy fetches the study as stored into out, returning the time and the
// bytes received.
func curlStudy(root, study, out string) (time.Duration, int64, error) {
	start := time.Now()
	cmd := exec.Command("curl", "-sSf", "-o", out, "-H", "Accept: "+acceptStored, root+"/studies/"+study)
	if b, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("curl: %w: %s", err, tail(b, 200))
	}
	return time.Since(start), fileSize(out), nil
}

func linkFastNote(v float64) string {
	if v <= 0 {
		return fmt.Sprintf("the default, %d Mbit/s", sync.DefaultLinkFastMbps)
	}
	return fmt.Sprintf("%g Mbit/s", v)
}

// syncOnce runs `teleread sync --once` for the accession into a fresh home
// (holding links, when not nil, as its links.json), and returns what its
// "link:" line says it asked for and the links.json it left.
func (b *bench) syncOnce(bin, root, accession string, links []byte) (time.Duration, string, []byte, error) {
	home, err := os.MkdirTemp(b.tmp, "homelink-home-")
	if err != nil {
		return 0, "", nil, err
	}
	defer os.RemoveAll(home)
	if links != nil {
		if err := os.WriteFile(sync.LinkStatsPath(home), links, 0o600); err != nil {
			return 0, "", nil, err
		}
	}
	conf := filepath.Join(home, "none.json")
	if b.linkFastMbps > 0 {
		conf = filepath.Join(home, "config.json")
		if err := os.WriteFile(conf, fmt.Appendf(nil, `{"link_fast_mbps": %g}`, b.linkFastMbps), 0o600); err != nil {
			return 0, "", nil, err
		}
	}
	cmd := exec.Command(bin, "--home", home, "sync", "--once", "--archive", root, "--accessions", accession, "--priors", "0")
	cmd.Env = append(os.Environ(), "TELEREAD_CONFIG="+conf, "DISPLAY=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, "", nil, fmt.Errorf("teleread sync --once: %w: %s", err, tail(out, 300))
	}
	asked := "?"
	for _, line := range strings.Split(string(out), "\n") {
		if l, ok := strings.CutPrefix(line, "link: "); ok {
			asked = l
		}
	}
	kept, _ := os.ReadFile(sync.LinkStatsPath(home))
	return d, asked, kept, nil
}

// milestones are the puller's times from its start.
type milestones struct{ first, opening, around, series, ready time.Duration }

// stackHead is how many slices from the start of the stack the "around"
// milestone waits for.
const stackHead = 10

// pullMilestones pulls the study with the puller into a fresh cache and
// times its milestones, the first series' slices fetched in order. The study
// has one series, so the first series is complete when all of its instances
// are durable; its instance UIDs are SeriesUID.1, .2, ... in stack order
// (cachetest.WriteCTSeries), the first being the slice the viewer opens on.
func (b *bench) pullMilestones(root, study string, seriesLen int, order sync.SliceOrder) (milestones, error) {
	var m milestones
	home, err := os.MkdirTemp(b.tmp, "homelink-cache-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(home)
	c, err := cache.Open(home)
	if err != nil {
		return m, err
	}
	defer c.Close()
	client, err := sync.New(sync.Config{BaseURL: root, LinkFastMbps: b.linkFastMbps})
	if err != nil {
		return m, err
	}
	var mu gosync.Mutex
	var start time.Time
	head := 0 // slices from the start of the stack durable
	p := &sync.Puller{
		Client: client, Store: c, Reader: "BENCH^READER", FirstSeriesOrder: order,
		Worklist: &sync.Query{Match: []sync.Param{{Key: "StudyInstanceUID", Value: study}}},
		OnEvent: func(e sync.Event) {
			if e.StudyUID != study {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			d := time.Since(start)
			if e.Kind == sync.StudyProgress && e.Done > 0 && m.first == 0 {
				m.first = d
			}
			for e.Kind == sync.StudyProgress && head < min(stackHead, seriesLen) {
				if has, err := c.HasInstance(fmt.Sprintf("%s.1.%d", study, head+1)); err != nil || !has {
					break
				}
				if head++; head == 1 {
					m.opening = d
				}
				if head == min(stackHead, seriesLen) {
					m.around = d
				}
			}
			if e.Kind == sync.StudyProgress && e.Done >= seriesLen && m.series == 0 {
				m.series = d
			}
		},
	}
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	res, err := p.Pull(context.Background())
	if err != nil {
		return m, err
	}
	mu.Lock()
	defer mu.Unlock()
	m.ready = time.Since(start)
	if !slices.Contains(res.Ready, study) {
		return m, fmt.Errorf("study not ready: failed %v", res.Failed)
	}
	return m, nil
}

// netLink is a network namespace joined to this one by a veth pair.
type netLink struct {
	ns, hostIf, nsIf, hostAddr, nsAddr string
}

// newNetLink makes the namespace and the pair; names and addresses carry id
// (the process id) so that two runs do not collide.
func newNetLink(id int) (*netLink, error) {
	n := &netLink{
		ns:     fmt.Sprintf("trhl%d", id),
		hostIf: fmt.Sprintf("trh%d", id%100000),
		nsIf:   fmt.Sprintf("trn%d", id%100000),
	}
	octet := 16 + id%200
	n.hostAddr, n.nsAddr = fmt.Sprintf("10.231.%d.1", octet), fmt.Sprintf("10.231.%d.2", octet)
	steps := [][]string{
		{"ip", "netns", "add", n.ns},
		{"ip", "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf},
		{"ip", "link", "set", n.nsIf, "netns", n.ns},
		{"ip", "addr", "add", n.hostAddr + "/30", "dev", n.hostIf},
		{"ip", "link", "set", n.hostIf, "up"},
		{"ip", "netns", "exec", n.ns, "ip", "addr", "add", n.nsAddr + "/30", "dev", n.nsIf},
		{"ip", "netns", "exec", n.ns, "ip", "link", "set", n.nsIf, "up"},
		{"ip", "netns", "exec", n.ns, "ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := runQuiet(s...); err != nil {
			n.close()
			return nil, err
		}
	}
	return n, nil
}

// shape sets tbf on both ends: the namespace's end sends the archive's
// answers (down), this end sends the requests (up).
func (n *netLink) shape(r linkRate) error {
	tbf := func(mbit int) []string {
		// The bucket must hold at least one timer tick's worth of bytes.
		burst := max(64, mbit*1000/8/250)
		return []string{"root", "tbf", "rate", fmt.Sprintf("%dmbit", mbit), "burst", fmt.Sprintf("%dkb", burst), "latency", "50ms"}
	}
	if err := runQuiet(append([]string{"ip", "netns", "exec", n.ns, "tc", "qdisc", "replace", "dev", n.nsIf}, tbf(r.downMbit)...)...); err != nil {
		return err
	}
	return runQuiet(append([]string{"tc", "qdisc", "replace", "dev", n.hostIf}, tbf(r.upMbit)...)...)
}

// close removes the namespace, which removes the pair with it.
func (n *netLink) close() {
	_ = runQuiet("ip", "link", "del", n.hostIf)
	_ = runQuiet("ip", "netns", "del", n.ns)
}

func runQuiet(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
