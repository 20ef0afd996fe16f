package app

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// glyphChildEnv makes the test binary draw the glyph samples in a real
// window (see TestMain) instead of running tests.
const glyphChildEnv = "TELEREAD_GLYPH_CHILD"

// glyphSamples are single characters of the scripts patient names come in;
// missingGlyph is a code point no font has, drawn as Fyne draws any
// character it has no glyph for. hebrewLetter and hebrewWord check the
// direction: the word's first letter must be drawn at its right end.
var glyphSamples = []struct{ name, text string }{
	{"cjk ideograph 山", "山"},
	{"cjk ideograph 田", "田"},
	{"hiragana や", "や"},
	{"half-width katakana ﾔ", "ﾔ"},
	{"hangul 홍", "홍"},
	{"simplified chinese 东", "东"},
	{"arabic ق", "ق"},
	{"arabic ل", "ل"},
	{"hebrew ש", "ש"},
	{"hebrew ד", "ד"},
	{"cyrillic Ж", "Ж"},
	{"greek Δ", "Δ"},
	{"thai ส", "ส"},
	{"latin M", "M"},
}

const (
	missingGlyph = "\u0378" // unassigned
	hebrewLetter = "ש"
	hebrewWord   = "שרון"
)

// glyphReport is what the child writes beside its screenshot: where each
// text was drawn, in screenshot pixels.
type glyphReport struct {
	Rects map[string][4]int
}

// TestGlyphsDrawnNotBoxes draws characters of every script names come in
// in a real Fyne window under Xvfb, with the app's theme, and checks the
// screenshot: each character leaves ink, differs from what Fyne draws for a
// character no font has (the box Fyne falls back to), and differs from every
// other character, so no two are the same stand-in. A Hebrew word is drawn
// right to left.
func TestGlyphsDrawnNotBoxes(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("DISPLAY is not set: run the GUI tests under xvfb-run -a")
		}
		t.Skip("DISPLAY is not set (run under xvfb-run -a)")
	}
	if _, err := exec.LookPath("xwd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xwd is not installed (Debian package x11-apps): the screenshot needs it")
		}
		t.Skip("xwd is not installed (Debian package x11-apps)")
	}
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"home", []string{"HOME=" + t.TempDir()}},
		// Fyne finds the fonts for these scripts through an index in the
		// user's cache directory, and without one draws boxes (see
		// keepFontFallback).
		{"no cache directory", []string{"HOME=", "XDG_CACHE_HOME="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := os.Getenv("TELEREAD_SCREENSHOTS")
			if out == "" {
				out = t.TempDir()
			}
			out = filepath.Join(out, "glyphs-"+strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			checkGlyphWindow(t, out, tc.env)
		})
	}
}

// checkGlyphWindow runs the glyph window with env and checks its screenshot.
func checkGlyphWindow(t *testing.T, out string, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := ownDisplay(ctx)
	cmd.Env = append(append(os.Environ(), glyphChildEnv+"="+out, "FYNE_SCALE=1"), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("glyph window: %v\n%s", err, b)
	}
	var rep glyphReport
	raw, err := os.ReadFile(filepath.Join(out, "glyphs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, filepath.Join(out, "glyphs.png"))
	crop := func(text string) image.Rectangle {
		r, ok := rep.Rects[text]
		if !ok {
			t.Fatalf("no rectangle for %q", text)
		}
		return image.Rect(r[0], r[1], r[2], r[3])
	}
	missing := crop(missingGlyph)
	if n := inkPixels(img, missing); n < 10 {
		t.Fatalf("the missing-glyph stand-in left %d pixels of ink: the window did not draw", n)
	}
	for i, s := range glyphSamples {
		r := crop(s.text)
		if n := inkPixels(img, r); n < 10 {
			t.Errorf("%s: %d pixels of ink", s.name, n)
		}
		if d := glyphDifference(img, r, missing); d < 20 {
			t.Errorf("%s is drawn as the missing-glyph box (%d pixels differ)", s.name, d)
		}
		for _, o := range glyphSamples[:i] {
			if d := glyphDifference(img, r, crop(o.text)); d < 20 {
				t.Errorf("%s and %s are drawn alike (%d pixels differ): a stand-in, not their glyphs", s.name, o.name, d)
			}
		}
	}
	// Right to left: the word's first letter, ש, is at its right end.
	word, letter := crop(hebrewWord), crop(hebrewLetter)
	w := letter.Dx()
	right := image.Rect(word.Max.X-w, word.Min.Y, word.Max.X, word.Max.Y)
	left := image.Rect(word.Min.X, word.Min.Y, word.Min.X+w, word.Max.Y)
	dr, dl := glyphDifference(img, right, letter), glyphDifference(img, left, letter)
	if dr >= dl {
		t.Errorf("%q is not drawn right to left: its right end differs from %q in %d pixels, its left end in %d", hebrewWord, hebrewLetter, dr, dl)
	}
	t.Logf("%q against %q: right end %d pixels differ, left end %d", hebrewWord, hebrewLetter, dr, dl)
	t.Logf("screenshot %s", filepath.Join(out, "glyphs.png"))
}

// inkPixels counts the bright pixels (text is drawn light on dark) in r.
func inkPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if luma(img, x, y) > 96 {
				n++
			}
		}
	}
	return n
}

// glyphDifference counts the pixels whose ink differs between the two
// rectangles, laid over each other at their top left corners over the
// larger of their sizes (ink beyond the smaller one counts).
func glyphDifference(img image.Image, a, b image.Rectangle) int {
	w, h := max(a.Dx(), b.Dx()), max(a.Dy(), b.Dy())
	ink := func(r image.Rectangle, x, y int) bool {
		p := image.Pt(r.Min.X+x, r.Min.Y+y)
		return p.In(r) && luma(img, p.X, p.Y) > 96
	}
	n := 0
	for y := range h {
		for x := range w {
			if ink(a, x, y) != ink(b, x, y) {
				n++
			}
		}
	}
	return n
}

// runGlyphWindow is the child: it draws every sample in the app's theme in
// a real window, takes a screenshot and writes it with the texts'
// rectangles into out.
func runGlyphWindow(out string) error {
	a := fyneapp.NewWithID(AppID + ".test")
	a.Settings().SetTheme(newTheme())
	w := a.NewWindow("Teleread glyphs")
	texts := map[string]*canvas.Text{}
	var cells []fyne.CanvasObject
	add := func(s string) {
		if texts[s] != nil {
			return
		}
		tx := canvas.NewText(s, color.White)
		tx.TextSize = 40
		texts[s] = tx
		cells = append(cells, container.NewCenter(tx))
	}
	marker := canvas.NewRectangle(markerColour)
	marker.SetMinSize(fyne.NewSize(30, 30))
	cells = append(cells, container.NewCenter(marker))
	for _, s := range glyphSamples {
		add(s.text)
	}
	add(missingGlyph)
	add(hebrewWord)
	bg := canvas.NewRectangle(color.Black)
	bg.SetMinSize(fyne.NewSize(800, 500)) // the window's size from the start
	w.SetContent(container.NewStack(bg, container.NewGridWrap(fyne.NewSize(150, 80), cells...)))
	w.Resize(fyne.NewSize(800, 500))
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	var scriptErr error
	go func() {
		defer fyne.Do(a.Quit)
		<-started
		// Without a window manager the GL viewport can lag the window's
		// first size: a resize once shown sets both.
		fyne.DoAndWait(func() { w.Resize(fyne.NewSize(1000, 600)) })
		time.Sleep(time.Second) // let the window paint
		rep := glyphReport{Rects: map[string][4]int{}}
		var wpx, hpx int
		var markerAt image.Point
		fyne.DoAndWait(func() {
			sc := w.Canvas().Scale()
			sz := w.Canvas().Size()
			wpx, hpx = int(sz.Width*sc), int(sz.Height*sc)
			drv := fyne.CurrentApp().Driver()
			for s, tx := range texts {
				p, m := drv.AbsolutePositionForObject(tx), tx.MinSize()
				rep.Rects[s] = [4]int{int(p.X * sc), int(p.Y * sc), int((p.X + m.Width) * sc), int((p.Y + m.Height) * sc)}
			}
			p := drv.AbsolutePositionForObject(marker).Add(fyne.NewPos(15, 15))
			markerAt = image.Pt(int(p.X*sc), int(p.Y*sc))
		})
		img, err := screenshotX(wpx, hpx)
		if err != nil {
			scriptErr = err
			return
		}
		// The marker proves the screenshot is the window, pixel for pixel.
		if r, g, b, _ := img.At(markerAt.X, markerAt.Y).RGBA(); r>>8 != uint32(markerColour.R) || g>>8 != uint32(markerColour.G) || b>>8 != uint32(markerColour.B) {
			scriptErr = fmt.Errorf("the screenshot shows %v where the window has its marker %v", img.At(markerAt.X, markerAt.Y), markerColour)
			return
		}
		f, err := os.Create(filepath.Join(out, "glyphs.png"))
		if err != nil {
			scriptErr = err
			return
		}
		if err := png.Encode(f, img); err != nil {
			scriptErr = err
		}
		f.Close()
		b, _ := json.Marshal(rep)
		if err := os.WriteFile(filepath.Join(out, "glyphs.json"), b, 0o644); err != nil && scriptErr == nil {
			scriptErr = err
		}
	}()
	w.ShowAndRun()
	if scriptErr != nil {
		return fmt.Errorf("glyph window: %w", scriptErr)
	}
	return nil
}

// markerColour marks a spot of the glyph window whose colour is known.
var markerColour = color.NRGBA{R: 0xff, G: 0x20, B: 0x40, A: 0xff}
