package sync

import (
	"fmt"
	"log"
	"runtime/debug"
)

// recovered, deferred by a goroutine that handles the archive's bytes, turns
// a panic into an error naming what, handed to report: the study is reported
// failed instead of the process dying. The cause is a bug to fix; its stack
// goes to the log.
func recovered(what string, report func(error)) {
	if r := recover(); r != nil {
		err := fmt.Errorf("sync: %s: internal error: %v", what, r)
		log.Printf("%v\n%s", err, debug.Stack())
		report(err)
	}
}

// guard runs fn under recovered and returns its error or the panic's.
func guard(what string, fn func() error) (err error) {
	defer recovered(what, func(e error) { err = e })
	return fn()
}
