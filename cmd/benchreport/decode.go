package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"teleread/viewer"
)

// decodeFile is one corpus file of the decode section.
type decodeFile struct {
	id, path string
	frames   int
	ours     time.Duration // open + decode every frame, median
	oursErr  error
	peer     time.Duration // gdcmconv --raw, median
	peerErr  error
}

// benchDecode decodes every frame of every sound corpus file with pixel
// data, per transfer syntax, beside gdcmconv --raw on the same files (one
// process per file).
func benchDecode(b *bench) error {
	entries, err := b.manifest()
	if err != nil {
		return err
	}
	var order []string
	groups := map[string][]*decodeFile{}
	names := map[string]string{}
	for _, e := range entries {
		if e.Broken || e.Reference.Status != "ok" {
			continue
		}
		ts := e.Info.TransferSyntaxUID
		if ts == "" {
			continue
		}
		if _, ok := groups[ts]; !ok {
			order = append(order, ts)
			names[ts] = e.tsName()
		}
		groups[ts] = append(groups[ts], &decodeFile{id: e.ID, path: filepath.Join(b.corpus, e.File)})
	}
	if len(order) == 0 {
		return fmt.Errorf("no decodable file in the corpus manifest")
	}

	// Teleread: open, decode every frame, close. Files are small, so each is
	// repeated for a shorter time than the section-wide minimum.
	fileBench := *b
	fileBench.minTime = min(b.minTime, 50*time.Millisecond)
	for _, ts := range order {
		for _, f := range groups[ts] {
			f.ours, f.oursErr = fileBench.perOp(func() error {
				im, err := viewer.Open(f.path)
				if err != nil {
					return err
				}
				defer im.Close()
				f.frames = im.Frames
				for i := range im.Frames {
					if _, err := im.Frame(i); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}

	// gdcmconv --raw, one process per file.
	startup, startupErr := b.startup("gdcmconv")
	out := filepath.Join(b.tmp, "gdcmconv-out.dcm")
	for _, ts := range order {
		for _, f := range groups[ts] {
			if startupErr != nil {
				f.peerErr = startupErr
				continue
			}
			f.peer, f.peerErr = b.timeCommand(command{"gdcmconv", []string{"--raw", f.path, out}})
		}
	}

	t := newTable("transfer syntax", "files", "frames", "Teleread", "gdcmconv", "ratio", "gdcmconv minus start-up", "ratio")
	startupDominated := false
	for _, ts := range order {
		var frames, peerFrames int
		var ours, oursCommon, peer, peerC time.Duration
		var failed, peerFailed []string
		for _, f := range groups[ts] {
			if f.oursErr != nil {
				failed = append(failed, f.id)
				continue
			}
			frames += f.frames
			ours += f.ours
			if f.peerErr != nil {
				peerFailed = append(peerFailed, f.id)
				continue
			}
			peerFrames += f.frames
			oursCommon += f.ours
			peer += f.peer
			peerC += max(f.peer-startup, 0)
		}
		row := []string{names[ts], fmt.Sprint(len(groups[ts])), fmt.Sprint(frames)}
		if frames == 0 {
			row = append(row, na("every file failed"))
		} else {
			row = append(row, rate(float64(frames), ours, "fr"))
		}
		if peerFrames == 0 {
			reason := "gdcmconv failed on every file"
			if startupErr != nil {
				reason = startupErr.Error()
			}
			row = append(row, na(reason), "", "", "")
		} else {
			oursRate := float64(peerFrames) / oursCommon.Seconds()
			peerRate := float64(peerFrames) / peer.Seconds()
			row = append(row, rate(float64(peerFrames), peer, "fr"), ratio(oursRate, peerRate))
			if peerC <= 0 {
				row = append(row, "n/a (all start-up)", "")
				startupDominated = true
			} else {
				mark := ""
				if peerC*10 < peer {
					mark, startupDominated = "*", true
				}
				row = append(row, rate(float64(peerFrames), peerC, "fr")+mark,
					ratio(oursRate, float64(peerFrames)/peerC.Seconds())+mark)
			}
		}
		t.add(row...)
		if len(failed) > 0 {
			t.note("%s: Teleread failed on %s", names[ts], strings.Join(failed, ", "))
		}
		if len(peerFailed) > 0 && startupErr == nil {
			t.note("%s: gdcmconv failed on %s (left out of its figure and the ratio)", names[ts], strings.Join(peerFailed, ", "))
		}
	}
	t.print(b.out)
	fmt.Fprintln(b.out, "  Rates are frames decoded per second over the syntax's files (open, decode every frame, close for Teleread;")
	fmt.Fprintln(b.out, "  one `gdcmconv --raw IN OUT` process per file, which also writes the output file).")
	if startupErr == nil {
		fmt.Fprintf(b.out, "  gdcmconv start-up (same command on a trivial file): %s per process, subtracted per file in the corrected columns.\n", ms(startup))
	}
	if startupDominated {
		fmt.Fprintln(b.out, "  * over 90% of gdcmconv's time there is process start-up: the corrected figure is within the noise of that start-up.")
	}
	return nil
}
