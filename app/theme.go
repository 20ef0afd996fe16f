package app

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// readingTheme is a dark theme for reading rooms: near-black backgrounds so the
// images carry the contrast, compact padding so the images get the space.
type readingTheme struct{ base fyne.Theme }

func newTheme() fyne.Theme {
	keepFontFallback()
	return &readingTheme{base: theme.DefaultTheme()}
}

// keepFontFallback makes sure Fyne can draw the names its own font has no
// glyphs for. The theme's font (Fyne's Noto Sans) covers Latin, Greek and
// Cyrillic; Chinese, Japanese, Korean, Arabic, Hebrew and Thai come from the
// system's fonts (the Makefile installs Noto for them), which Fyne finds
// through an index it keeps in the user's cache directory. Where there is
// no usable cache directory (no HOME nor XDG_CACHE_HOME, or one that cannot
// be written), Fyne gives up the fallback altogether and draws a box for
// every such character: a patient's name would be unreadable. A directory
// in the temporary directory keeps the fallback working then.
func keepFontFallback() {
	if dir, err := os.UserCacheDir(); err == nil && writableDir(dir) {
		return
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("teleread-fonts-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err == nil && writableDir(dir) {
		os.Setenv("XDG_CACHE_HOME", dir)
	}
}

// writableDir reports whether a file can be created in dir (creating dir
// if needed).
func writableDir(dir string) bool {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".teleread-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// Colours the app uses beyond the theme's.
var (
	colStat      = color.NRGBA{R: 0xe5, G: 0x39, B: 0x35, A: 0xff} // STAT priority
	colOverdue   = color.NRGBA{R: 0xff, G: 0xa0, B: 0x00, A: 0xff}
	colOverlay   = color.NRGBA{R: 0xe8, G: 0xe8, B: 0xd0, A: 0xff} // corner text
	colMeasure   = color.NRGBA{R: 0x40, G: 0xff, B: 0x60, A: 0xff}
	colWarning   = color.NRGBA{R: 0xff, G: 0xc0, B: 0x30, A: 0xff}
	colActive    = color.NRGBA{R: 0x2f, G: 0x8f, B: 0xff, A: 0xff} // active viewport frame
	colDrop      = color.NRGBA{R: 0x40, G: 0xff, B: 0x60, A: 0xff} // viewport a dragged series will drop into
	colViewport  = color.NRGBA{A: 0xff}
	colBorder    = color.NRGBA{R: 0x30, G: 0x33, B: 0x38, A: 0xff} // inactive viewport frame
	colPanel     = color.NRGBA{R: 0x16, G: 0x18, B: 0x1c, A: 0xff}
	colStatusBar = color.NRGBA{R: 0x10, G: 0x12, B: 0x15, A: 0xff}
)

func (t *readingTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		return color.NRGBA{R: 0x1b, G: 0x1d, B: 0x22, A: 0xff}
	case theme.ColorNameInputBackground:
		return color.NRGBA{R: 0x25, G: 0x28, B: 0x2e, A: 0xff}
	case theme.ColorNameHeaderBackground:
		return color.NRGBA{R: 0x22, G: 0x25, B: 0x2b, A: 0xff}
	case theme.ColorNamePrimary:
		return colActive
	case theme.ColorNameSelection:
		return color.NRGBA{R: 0x2f, G: 0x5f, B: 0xa0, A: 0xa0}
	}
	return t.base.Color(n, theme.VariantDark)
}

func (t *readingTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base.Font(s) }
func (t *readingTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base.Icon(n) }

func (t *readingTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNamePadding:
		return 3
	case theme.SizeNameInnerPadding:
		return 6
	case theme.SizeNameText:
		return 13
	}
	return t.base.Size(n)
}
