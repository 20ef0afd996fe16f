// Package guilocale keeps the GUI toolkit quiet about the C locale. Fyne reads
// the user's locale in a package initializer, so in every run of the binary,
// headless commands included; under LANG=C.UTF-8 (the default of many
// servers and containers) or POSIX.UTF-8 it takes "C" for a language, fails
// to parse it and logs "Fyne error: Error parsing user locale C" to stderr.
// The C locale means untranslated messages, which is English: this package
// says so in LANGUAGE, which Fyne's lookup consults before a codeset-suffixed
// value. Programs started from here inherit it and still print English, as
// they would in the C locale.
//
// It works only if its initializer runs before Fyne's: the Go specification
// (since Go 1.21) initializes packages in import path order, each as soon as
// its imports are initialized, and this package imports nothing but syscall,
// so it runs before any package that needs os or time, Fyne's among them.
// TestHeadlessQuietUnderCLocale in cmd/teleread fails if that ever changes.
package guilocale

import "syscall"

func init() {
	if v, ok := syscall.Getenv("LANGUAGE"); ok && v != "" {
		return
	}
	// The first of these that is set decides, as in Fyne's lookup (and in
	// gettext's).
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, _ := syscall.Getenv(name)
		if v == "" {
			continue
		}
		if cLocale(v) {
			syscall.Setenv("LANGUAGE", "en")
		}
		return
	}
}

// cLocale reports whether v names the C or POSIX locale with a codeset or
// modifier (C.UTF-8, C.utf8, POSIX@euro): plain "C" and "POSIX" Fyne
// understands already.
func cLocale(v string) bool {
	for _, base := range []string{"C", "POSIX"} {
		if len(v) > len(base) && v[:len(base)] == base && (v[len(base)] == '.' || v[len(base)] == '@') {
			return true
		}
	}
	return false
}
