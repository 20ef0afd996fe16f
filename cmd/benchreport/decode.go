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
	lib      time.Duration // GDCM library in one process, median; 0 when it failed
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
		if e.Broken || e.Reference.Status != "ok" || len(b.files) > 0 && !b.files[e.ID] {
			continue
		}
		ts := e.Info.TransferSyntaxUID
		if ts == "" {
			continue
		}
		if _, ok := groups[ts]; !ok {
			order = append(order, ts)
			names[ts] = tsName(e)
		}
		groups[ts] = append(groups[ts], &decodeFile{id: e.ID, path: filepath.Join(b.corpus, e.File)})
	}
	if len(order) == 0 {
		return fmt.Errorf("no decodable file in the corpus manifest")
	}

	var all []*decodeFile
	for _, ts := range order {
		all = append(all, groups[ts]...)
	}

	// Teleread and the GDCM library take turns, one run of every file each
	// per round, and each file's figure is its median over the rounds. Timed
	// one side after the other, any change in the machine's load between the
	// two phases went straight into the ratio (the same file moved 2x from one
	// report to the next); taking turns puts both sides in the same moments.
	// Files are small, so each run repeats a file for a shorter time than the
	// section-wide minimum.
	fileBench := *b
	fileBench.minTime = min(b.minTime, 50*time.Millisecond)
	fileBench.runs = 1
	libBin, libErr := buildGDCMDecoder(b.tmp)
	var paths []string
	for _, f := range all {
		paths = append(paths, f.path)
	}
	ours := map[*decodeFile][]time.Duration{}
	libs := map[*decodeFile][]time.Duration{}
	for range b.runs {
		for _, f := range all {
			if f.oursErr != nil {
				continue
			}
			var d time.Duration
			d, f.oursErr = fileBench.perOp(func() error {
				im, err := viewer.Open(f.path)
				if err != nil {
					return err
				}
				defer im.Close()
				f.frames = im.Frames
				for i := range im.Frames {
					fr, err := im.Frame(i)
					if err != nil {
						return err
					}
					// Done with it: its memory backs the next frame, as
					// GDCM's measure reuses one buffer.
					fr.Recycle()
				}
				return nil
			})
			ours[f] = append(ours[f], d)
		}
		if libErr != nil {
			continue
		}
		// The GDCM library in one process: no start-up per file.
		var times map[string]time.Duration
		if times, libErr = fileBench.gdcmDecodeTimes(libBin, paths, fileBench.minTime); libErr != nil {
			continue
		}
		for _, f := range all {
			if d := times[f.path]; d > 0 {
				libs[f] = append(libs[f], d)
			}
		}
	}
	for _, f := range all {
		f.ours = median(ours[f])
		if libErr == nil && len(libs[f]) == b.runs {
			f.lib = median(libs[f])
		}
	}

	// gdcmconv --raw, one process per file.
	startup, startupErr := b.startup("gdcmconv")
	out := filepath.Join(b.tmp, "gdcmconv-out.dcm")
	for _, f := range all {
		if startupErr != nil {
			f.peerErr = startupErr
			continue
		}
		f.peer, f.peerErr = b.timeCommand(command{"gdcmconv", []string{"--raw", f.path, out}})
	}

	t := newTable("transfer syntax", "files", "frames", "Teleread", "gdcmconv", "ratio", "gdcmconv - start-up", "ratio", "GDCM library", "ratio")
	startupDominated := false
	for _, ts := range order {
		var frames, peerFrames, libFrames int
		var ours, oursCommon, peer, peerC, lib, oursLib time.Duration
		var failed, peerFailed, libFailed []string
		for _, f := range groups[ts] {
			if f.oursErr != nil {
				failed = append(failed, f.id)
				continue
			}
			frames += f.frames
			ours += f.ours
			if f.lib > 0 {
				libFrames += f.frames
				lib += f.lib
				oursLib += f.ours
			} else if libErr == nil {
				libFailed = append(libFailed, f.id)
			}
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
			// Within the start-up's noise a difference means nothing: print
			// the corrected figure only where decoding is at least a tenth
			// of gdcmconv's time.
			oursRate := float64(peerFrames) / oursCommon.Seconds()
			peerRate := float64(peerFrames) / peer.Seconds()
			row = append(row, rate(float64(peerFrames), peer, "fr"), ratio(oursRate, peerRate))
			if peerC*10 < peer {
				row = append(row, fmt.Sprintf("n/a* (start-up is %.0f%%)", 100*(1-peerC.Seconds()/peer.Seconds())), "")
				startupDominated = true
			} else {
				row = append(row, rate(float64(peerFrames), peerC, "fr"), ratio(oursRate, float64(peerFrames)/peerC.Seconds()))
			}
		}
		if libFrames == 0 {
			if libErr != nil {
				row = append(row, na("see below"), "")
			} else {
				row = append(row, na("GDCM failed on every file"), "")
			}
		} else {
			row = append(row, rate(float64(libFrames), lib, "fr"),
				ratio(float64(libFrames)/oursLib.Seconds(), float64(libFrames)/lib.Seconds()))
		}
		t.add(row...)
		if len(failed) > 0 {
			t.note("%s: Teleread failed on %s", names[ts], strings.Join(failed, ", "))
		}
		if len(peerFailed) > 0 && startupErr == nil {
			t.note("%s: gdcmconv failed on %s (left out of its figure and the ratio)", names[ts], strings.Join(peerFailed, ", "))
		}
		if len(libFailed) > 0 {
			t.note("%s: the GDCM library failed on %s (left out of its figure and the ratio)", names[ts], strings.Join(libFailed, ", "))
		}
	}
	t.print(b.out)
	fmt.Fprintln(b.out, "  Rates are frames decoded per second over the syntax's files (open, decode every frame, close for Teleread;")
	fmt.Fprintln(b.out, "  one `gdcmconv --raw IN OUT` process per file, which also writes the output file).")
	if startupErr == nil {
		fmt.Fprintf(b.out, "  gdcmconv start-up (the same command on a 64x64 uncompressed MR): %s per process, subtracted per file in the corrected columns.\n", ms(startup))
	}
	if startupDominated {
		fmt.Fprintln(b.out, "  * over 90% of gdcmconv's time there is process start-up: a corrected figure would be noise; see the GDCM library column.")
	}
	if libErr != nil {
		fmt.Fprintf(b.out, "  GDCM library: n/a (%v)\n", libErr)
	} else {
		fmt.Fprintf(b.out, "  GDCM library: %s, in one process (gdcm::ImageReader + Image::GetBuffer per file, built here with g++),\n", gdcmVersion())
		fmt.Fprintln(b.out, "  timed like Teleread: read, parse and decode every frame, repeated; the two take turns, one run of every file")
		fmt.Fprintln(b.out, "  each per round, and each file's figure is its median over the rounds. GetBuffer leaves native")
		fmt.Fprintln(b.out, "  samples as stored (byte-swapped only: no planar-configuration change, no masking); Teleread's frames are")
		fmt.Fprintln(b.out, "  interleaved, masked to Bits Stored and sign-extended.")
	}
	return nil
}
