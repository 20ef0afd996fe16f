package app

import (
	"fmt"
	"log"
	"runtime/debug"
)

// guard runs fn, which reads files or talks to the archive on a goroutine of
// its own, and turns a panic in it into an error: logged with its stack (the
// cause is a bug to fix) and returned for the screen, so that one hostile file
// or answer cannot take the workstation down. what names the work, never
// patient data.
func guard(what string, fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error: %v", what, r)
			log.Printf("teleread: %v\n%s", err, debug.Stack())
		}
	}()
	fn()
	return nil
}
