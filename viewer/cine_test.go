package viewer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"teleread/viewer/dataset"
)

// synthElem is one element of a synthetic data set built for edge cases the corpus
// does not hold. Values are given in little-endian order (the helpers below) and
// swapped by synthDataSet when it writes big endian.
type synthElem struct {
	tag   dataset.Tag
	vr    string
	value []byte // text VRs: the string; binary VRs: little-endian words of size wordSize(vr)
	items [][]synthElem
}

func synthStr(tag dataset.Tag, vr, s string) synthElem {
	return synthElem{tag: tag, vr: vr, value: []byte(s)}
}

func synthUS(tag dataset.Tag, v ...uint16) synthElem {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return synthElem{tag: tag, vr: "US", value: b}
}

func synthUL(tag dataset.Tag, v ...uint32) synthElem {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return synthElem{tag: tag, vr: "UL", value: b}
}

func synthFD(tag dataset.Tag, v ...float64) synthElem {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return synthElem{tag: tag, vr: "FD", value: b}
}

func synthAT(tags ...dataset.Tag) synthElem {
	var v []uint16
	for _, t := range tags {
		v = append(v, t.Group(), t.Element())
	}
	e := synthUS(dataset.FrameIncrementPointer, v...)
	e.vr = "AT"
	return e
}

func synthSQ(tag dataset.Tag, items ...[]synthElem) synthElem {
	return synthElem{tag: tag, vr: "SQ", items: items}
}

func wordSize(vr string) int {
	switch vr {
	case "US", "SS", "AT", "OW":
		return 2
	case "UL", "SL", "FL", "OF", "OL":
		return 4
	case "FD", "OD":
		return 8
	}
	return 1
}

// synthEncode writes elems in explicit VR with the given byte order.
func synthEncode(order binary.ByteOrder, elems []synthElem) []byte {
	sorted := append([]synthElem(nil), elems...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].tag < sorted[j].tag })
	var out bytes.Buffer
	u16 := func(v uint16) { b := make([]byte, 2); order.PutUint16(b, v); out.Write(b) }
	u32 := func(v uint32) { b := make([]byte, 4); order.PutUint32(b, v); out.Write(b) }
	for _, e := range sorted {
		var val []byte
		if e.vr == "SQ" {
			var body bytes.Buffer
			for _, it := range e.items {
				enc := synthEncode(order, it)
				b := make([]byte, 8)
				order.PutUint16(b[0:], 0xFFFE)
				order.PutUint16(b[2:], 0xE000)
				order.PutUint32(b[4:], uint32(len(enc)))
				body.Write(b)
				body.Write(enc)
			}
			val = body.Bytes()
		} else {
			val = append([]byte(nil), e.value...)
			if ws := wordSize(e.vr); ws > 1 && order == binary.BigEndian {
				for i := 0; i+ws <= len(val); i += ws {
					for a, b := i, i+ws-1; a < b; a, b = a+1, b-1 {
						val[a], val[b] = val[b], val[a]
					}
				}
			}
			if len(val)%2 == 1 {
				pad := byte(' ')
				if e.vr == "UI" || e.vr == "OB" {
					pad = 0
				}
				val = append(val, pad)
			}
		}
		u16(e.tag.Group())
		u16(e.tag.Element())
		out.WriteString(e.vr)
		switch e.vr {
		case "OB", "OW", "OF", "OD", "OL", "SQ", "UT", "UN", "UC", "UR":
			u16(0)
			u32(uint32(len(val)))
		default:
			u16(uint16(len(val)))
		}
		out.Write(val)
	}
	return out.Bytes()
}

// synthDataSet assembles a Part 10 file from elems and parses it with dataset.Parse.
func synthDataSet(t *testing.T, bigEndian bool, elems ...synthElem) *dataset.DataSet {
	t.Helper()
	ts := dataset.ExplicitVRLittleEndian
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		ts, order = dataset.ExplicitVRBigEndian, binary.BigEndian
	}
	meta := synthEncode(binary.LittleEndian, []synthElem{
		synthStr(dataset.MediaStorageSOPClassUID, "UI", "1.2.840.10008.5.1.4.1.1.3.1"),
		synthStr(dataset.TransferSyntaxUID, "UI", ts),
	})
	var f bytes.Buffer
	f.Write(make([]byte, 128))
	f.WriteString("DICM")
	f.Write(synthEncode(binary.LittleEndian, []synthElem{synthUL(dataset.FileMetaInformationGroupLength, uint32(len(meta)))}))
	f.Write(meta)
	f.Write(synthEncode(order, elems))
	file, err := dataset.Parse(bytes.NewReader(f.Bytes()), int64(f.Len()), "synthetic")
	if err != nil {
		t.Fatalf("parse synthetic data set: %v", err)
	}
	return file.DataSet
}

const corpusDir = "../testdata/corpus/files"

// openCorpus opens a corpus file; a missing corpus fails under CI and skips locally.
func openCorpus(t *testing.T, name string) *dataset.File {
	t.Helper()
	path := filepath.Join(corpusDir, name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file %s: %v", path, err)
		}
		t.Skipf("corpus file %s not present: %v", path, err)
	}
	f, err := dataset.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func mustUniform(t *testing.T, n int, d time.Duration) CineTiming {
	t.Helper()
	c, err := UniformCine(n, d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustVariable(t *testing.T, inc ...float64) CineTiming {
	t.Helper()
	d := make([]time.Duration, len(inc))
	for i, v := range inc {
		d[i] = ms(v)
	}
	c, err := VariableCine(d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCineFrameAt(t *testing.T) {
	uniform10 := mustUniform(t, 10, 100*time.Millisecond)
	double, _ := uniform10.WithSpeed(2)
	half, _ := uniform10.WithSpeed(0.5)
	sweep5 := mustUniform(t, 5, 100*time.Millisecond).WithMode(Sweeping)
	trimmed, _ := uniform10.WithTrim(3, 6)
	trimmedSweep := trimmed.WithMode(Sweeping)
	// Frame Time Vector 0,10,20,30,40 ms: frames start at 0,10,30,60,100; the last
	// frame lasts the mean increment 25 ms, so a loop is 125 ms.
	vec := mustVariable(t, 0, 10, 20, 30, 40)
	// Sweep back over frames 3,2,1 (40+30+20 ms): period 125+90 = 215 ms.
	vecSweep := vec.WithMode(Sweeping)
	vecDouble, _ := vec.WithSpeed(2)
	// A zero increment: frame 1 and frame 2 are due at the same moment, 1 is skipped.
	vecZero := mustVariable(t, 0, 10, 0, 10)
	two := mustUniform(t, 2, 50*time.Millisecond).WithMode(Sweeping)
	one := mustUniform(t, 1, 50*time.Millisecond)

	tests := []struct {
		name    string
		c       CineTiming
		elapsed time.Duration
		want    int
	}{
		{"uniform start", uniform10, 0, 0},
		{"uniform negative", uniform10, -time.Second, 0},
		{"uniform end of frame 0", uniform10, ms(99.999), 0},
		{"uniform frame 1 starts", uniform10, ms(100), 1},
		{"uniform last frame", uniform10, ms(999), 9},
		{"uniform wraps", uniform10, ms(1000), 0},
		{"uniform second loop", uniform10, ms(1350), 3},
		{"speed 2x frame 1", double, ms(50), 1},
		{"speed 2x frame 9", double, ms(499), 9},
		{"speed 2x wraps", double, ms(500), 0},
		{"speed 0.5x still 0", half, ms(199), 0},
		{"speed 0.5x frame 1", half, ms(200), 1},
		{"speed 0.5x frame 9", half, ms(1999), 9},
		{"sweep forward", sweep5, ms(250), 2},
		{"sweep top", sweep5, ms(400), 4},
		{"sweep back 3", sweep5, ms(500), 3},
		{"sweep back 1", sweep5, ms(799), 1},
		{"sweep again 0", sweep5, ms(800), 0},
		{"sweep again 1", sweep5, ms(900), 1},
		{"trim start", trimmed, 0, 2},
		{"trim last", trimmed, ms(399), 5},
		{"trim wraps to start trim", trimmed, ms(400), 2},
		{"trim sweep back", trimmedSweep, ms(400), 4},
		{"trim sweep back 2", trimmedSweep, ms(500), 3},
		{"trim sweep again", trimmedSweep, ms(600), 2},
		{"vector frame 0", vec, ms(9.9), 0},
		{"vector frame 1", vec, ms(10), 1},
		{"vector end of 1", vec, ms(29.9), 1},
		{"vector frame 2", vec, ms(30), 2},
		{"vector frame 3", vec, ms(60), 3},
		{"vector frame 4", vec, ms(100), 4},
		{"vector end of 4", vec, ms(124.9), 4},
		{"vector wraps", vec, ms(125), 0},
		{"vector sweep top", vecSweep, ms(124.9), 4},
		{"vector sweep back 3", vecSweep, ms(125), 3},
		{"vector sweep end of 3", vecSweep, ms(164.9), 3},
		{"vector sweep back 2", vecSweep, ms(165), 2},
		{"vector sweep back 1", vecSweep, ms(195), 1},
		{"vector sweep end of 1", vecSweep, ms(214.9), 1},
		{"vector sweep again", vecSweep, ms(215), 0},
		{"vector 2x frame 2", vecDouble, ms(15), 2},
		{"vector 2x wraps", vecDouble, ms(62.5), 0},
		{"vector zero increment skips", vecZero, ms(10), 2},
		{"two frames sweep 1", two, ms(50), 1},
		{"two frames sweep back to 0", two, ms(100), 0},
		{"single frame", one, time.Hour, 0},
		{"zero value", CineTiming{}, time.Second, 0},
		// 30 frames of 33.333 ms after ten hours: 36000 s = 36000 loops of 999.99 ms
		// plus 360 ms (36000 x 0.01 ms); frame floor(360/33.333) = 10. A player that
		// added 33 ms per tick, or rounded each frame to whole ms, would be elsewhere.
		{"no drift after 10 h", mustUniform(t, 30, ms(33.333)), 10 * time.Hour, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.FrameAt(tt.elapsed); got != tt.want {
				t.Errorf("FrameAt(%v) = %d, want %d", tt.elapsed, got, tt.want)
			}
		})
	}
}

func TestCineLoopDuration(t *testing.T) {
	u := mustUniform(t, 10, 100*time.Millisecond)
	u2, _ := u.WithSpeed(2)
	uh, _ := u.WithSpeed(0.5)
	tr, _ := u.WithTrim(3, 6)
	vec := mustVariable(t, 0, 10, 20, 30, 40)
	tests := []struct {
		name string
		c    CineTiming
		want time.Duration
	}{
		{"uniform", u, time.Second},
		{"speed 2x", u2, 500 * time.Millisecond},
		{"speed 0.5x", uh, 2 * time.Second},
		{"sweep", u.WithMode(Sweeping), 1800 * time.Millisecond},
		{"trim", tr, 400 * time.Millisecond},
		{"trim sweep", tr.WithMode(Sweeping), 600 * time.Millisecond},
		{"vector", vec, 125 * time.Millisecond},
		{"vector sweep", vec.WithMode(Sweeping), 215 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.LoopDuration(); got != tt.want {
				t.Errorf("LoopDuration() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCineTimeShare samples a loop every 0.1 ms and checks that each frame is on
// screen for exactly its own interval, and that frames follow each other in order.
func TestCineTimeShare(t *testing.T) {
	c := mustVariable(t, 0, 12.5, 40, 0.5, 33.3, 7, 100)
	c = c.WithMode(Sweeping)
	step := 100 * time.Microsecond
	counts := make(map[int]int)
	prev := c.FrameAt(0)
	var order []int
	order = append(order, prev)
	for e := time.Duration(0); e < c.LoopDuration(); e += step {
		f := c.FrameAt(e)
		counts[f]++
		if f != prev {
			order = append(order, f)
			prev = f
		}
	}
	wantOrder := []int{0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1}
	if len(order) != len(wantOrder) {
		t.Fatalf("frame order %v, want %v", order, wantOrder)
	}
	for i := range order {
		if order[i] != wantOrder[i] {
			t.Fatalf("frame order %v, want %v", order, wantOrder)
		}
	}
	// Frame i shows for increments[i+1]; the last for the mean (193.3/6 ms); the
	// sweep shows frames 1..5 twice.
	inc := []float64{12.5, 40, 0.5, 33.3, 7, 100, 193.3 / 6}
	for i, d := range inc {
		want := d
		if i >= 1 && i <= 5 {
			want *= 2
		}
		got := float64(counts[i]) * 0.1
		if math.Abs(got-want) > 0.2 {
			t.Errorf("frame %d shown %.1f ms per sweep, want %.1f", i, got, want)
		}
	}
}

func TestCineConstructorErrors(t *testing.T) {
	tests := []struct {
		name string
		make func() error
	}{
		{"no frames", func() error { _, err := UniformCine(0, time.Millisecond); return err }},
		{"zero frame time", func() error { _, err := UniformCine(5, 0); return err }},
		{"negative frame time", func() error { _, err := UniformCine(5, -time.Millisecond); return err }},
		{"frame time over an hour", func() error { _, err := UniformCine(5, 2*time.Hour); return err }},
		{"overflowing count", func() error { _, err := UniformCine(math.MaxInt32, time.Hour); return err }},
		{"empty vector", func() error { _, err := VariableCine(nil); return err }},
		{"negative increment", func() error { _, err := VariableCine([]time.Duration{0, -1}); return err }},
		{"all zero vector", func() error { _, err := VariableCine([]time.Duration{0, 0, 0}); return err }},
		{"speed 0", func() error { _, err := CineTiming{}.WithSpeed(0); return err }},
		{"speed NaN", func() error { _, err := CineTiming{}.WithSpeed(math.NaN()); return err }},
		{"speed 1000", func() error { _, err := CineTiming{}.WithSpeed(1000); return err }},
		{"trim past end", func() error { _, err := mustUniform(t, 5, time.Millisecond).WithTrim(1, 6); return err }},
		{"trim reversed", func() error { _, err := mustUniform(t, 5, time.Millisecond).WithTrim(4, 2); return err }},
		{"trim from 0", func() error { _, err := mustUniform(t, 5, time.Millisecond).WithTrim(0, 2); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); !errors.Is(err, ErrCineTiming) {
				t.Errorf("err = %v, want ErrCineTiming", err)
			}
		})
	}
}

func TestCineTimingOfSynthetic(t *testing.T) {
	frames := func(n string) synthElem { return synthStr(dataset.NumberOfFrames, "IS", n) }
	tests := []struct {
		name       string
		big        bool
		elems      []synthElem
		wantSource TimingSource
		wantFrames int
		wantLoop   time.Duration
		wantMode   PlaybackMode
		wantFirst  int
		wantLast   int
	}{
		{"frame time by pointer", false, []synthElem{frames("10"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "40"),
			synthStr(dataset.RecommendedDisplayFrameRate, "IS", "5")}, TimingFrameTime, 10, 400 * time.Millisecond, Looping, 0, 9},
		{"frame time by pointer big endian", true, []synthElem{frames("10"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "40")},
			TimingFrameTime, 10, 400 * time.Millisecond, Looping, 0, 9},
		{"frame time vector by pointer", false, []synthElem{frames("4"), synthAT(dataset.FrameTimeVector),
			synthStr(dataset.FrameTimeVector, "DS", `0\10\20\30`), synthStr(dataset.FrameTime, "DS", "99")},
			TimingFrameTimeVector, 4, 80 * time.Millisecond, Looping, 0, 3},
		{"vector of wrong length falls to recommended rate", false, []synthElem{frames("4"), synthAT(dataset.FrameTimeVector),
			synthStr(dataset.FrameTimeVector, "DS", `0\10\20`), synthStr(dataset.RecommendedDisplayFrameRate, "IS", "20")},
			TimingRecommendedRate, 4, 200 * time.Millisecond, Looping, 0, 3},
		{"zero frame time falls to cine rate", false, []synthElem{frames("5"), synthAT(dataset.FrameTime),
			synthStr(dataset.FrameTime, "DS", "0"), synthStr(dataset.CineRate, "IS", "10")},
			TimingCineRate, 5, 500 * time.Millisecond, Looping, 0, 4},
		{"recommended rate before cine rate", false, []synthElem{frames("5"), synthStr(dataset.RecommendedDisplayFrameRate, "IS", "25"),
			synthStr(dataset.CineRate, "IS", "10")}, TimingRecommendedRate, 5, 200 * time.Millisecond, Looping, 0, 4},
		{"recommended rate before unreferenced frame time", false, []synthElem{frames("5"), synthStr(dataset.FrameTime, "DS", "10"),
			synthStr(dataset.RecommendedDisplayFrameRate, "IS", "25")}, TimingRecommendedRate, 5, 200 * time.Millisecond, Looping, 0, 4},
		{"unreferenced frame time", false, []synthElem{frames("5"), synthStr(dataset.FrameTime, "DS", "10")},
			TimingFrameTimeUnreferenced, 5, 50 * time.Millisecond, Looping, 0, 4},
		{"pointer to another attribute", false, []synthElem{frames("3"), synthAT(dataset.T(0x0018, 0x2002)), synthStr(dataset.CineRate, "IS", "30")},
			TimingCineRate, 3, 3 * (time.Second / 30), Looping, 0, 2},
		{"no timing: default", false, []synthElem{frames("3")}, TimingDefault, 3, 3 * (time.Second / DefaultFrameRate), Looping, 0, 2},
		{"no number of frames", false, []synthElem{synthStr(dataset.FrameTime, "DS", "10")}, TimingFrameTimeUnreferenced, 1, 10 * time.Millisecond, Looping, 0, 0},
		{"sweeping with trims", false, []synthElem{frames("10"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "100"),
			synthUS(dataset.PreferredPlaybackSequencing, 1), synthStr(tagStartTrim, "IS", "2"), synthStr(tagStopTrim, "IS", "5")},
			TimingFrameTime, 10, 600 * time.Millisecond, Sweeping, 1, 4},
		{"only stop trim", false, []synthElem{frames("10"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "100"),
			synthStr(tagStopTrim, "IS", "3")}, TimingFrameTime, 10, 300 * time.Millisecond, Looping, 0, 2},
		{"trim past the end is ignored", false, []synthElem{frames("10"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "100"),
			synthStr(tagStartTrim, "IS", "4"), synthStr(tagStopTrim, "IS", "12")}, TimingFrameTime, 10, time.Second, Looping, 0, 9},
		{"looping code 0", false, []synthElem{frames("2"), synthUS(dataset.PreferredPlaybackSequencing, 0), synthStr(dataset.CineRate, "IS", "10")},
			TimingCineRate, 2, 200 * time.Millisecond, Looping, 0, 1},
		{"huge number of frames allocates nothing", false, []synthElem{frames("2147483647"), synthAT(dataset.FrameTime), synthStr(dataset.FrameTime, "DS", "1")},
			TimingFrameTime, 2147483647, 2147483647 * time.Millisecond, Looping, 0, 2147483646},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CineTimingOf(synthDataSet(t, tt.big, tt.elems...))
			first, last := c.Trim()
			if c.Source() != tt.wantSource || c.Frames() != tt.wantFrames || c.LoopDuration() != tt.wantLoop ||
				c.Mode() != tt.wantMode || first != tt.wantFirst || last != tt.wantLast {
				t.Errorf("got source %v, %d frames, loop %v, %v, trim %d..%d; want %v, %d, %v, %v, %d..%d",
					c.Source(), c.Frames(), c.LoopDuration(), c.Mode(), first, last,
					tt.wantSource, tt.wantFrames, tt.wantLoop, tt.wantMode, tt.wantFirst, tt.wantLast)
			}
		})
	}
}

// TestCineTimingOfCorpus checks the timing read from real cine files against the
// values dcmdump prints for them.
func TestCineTimingOfCorpus(t *testing.T) {
	tests := []struct {
		file       string
		wantSource TimingSource
		wantFrames int
		wantFrame  time.Duration
		at         time.Duration
		wantAt     int
	}{
		// (0028,0009) AT (0018,1063), FrameTime DS [33.333], NumberOfFrames IS [30].
		{"us_cine_jpeg_ybr422_30f.dcm", TimingFrameTime, 30, ms(33.333), 500 * time.Millisecond, 15},
		// (0028,0009) AT (0018,1063), FrameTime DS [33], NumberOfFrames IS [96].
		{"xa_cine_jpeg_baseline.dcm", TimingFrameTime, 96, 33 * time.Millisecond, 3200 * time.Millisecond, 0},
		// Single-frame ultrasound without timing.
		{"us_palette_segmented_lut.dcm", TimingDefault, 1, time.Second / DefaultFrameRate, time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := openCorpus(t, tt.file)
			c := CineTimingOf(f.DataSet)
			if c.Source() != tt.wantSource || c.Frames() != tt.wantFrames || c.FrameDuration(0) != tt.wantFrame {
				t.Errorf("got %v, %d frames of %v; want %v, %d of %v", c.Source(), c.Frames(), c.FrameDuration(0),
					tt.wantSource, tt.wantFrames, tt.wantFrame)
			}
			if got := c.LoopDuration(); got != time.Duration(tt.wantFrames)*tt.wantFrame {
				t.Errorf("LoopDuration = %v, want %v", got, time.Duration(tt.wantFrames)*tt.wantFrame)
			}
			if got := c.FrameAt(tt.at); got != tt.wantAt {
				t.Errorf("FrameAt(%v) = %d, want %d", tt.at, got, tt.wantAt)
			}
		})
	}
}

func BenchmarkCineFrameAtVector(b *testing.B) {
	inc := make([]time.Duration, 500)
	for i := 1; i < len(inc); i++ {
		inc[i] = time.Duration(20+i%17) * time.Millisecond
	}
	c, err := VariableCine(inc)
	if err != nil {
		b.Fatal(err)
	}
	c = c.WithMode(Sweeping)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.FrameAt(time.Duration(i) * 16666667)
	}
}
