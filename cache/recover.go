package cache

import (
	"fmt"
	"log"
	"runtime/debug"
)

// recovered, deferred by a function that reads input named name, turns a
// panic into a RejectError in *err: the last line of defence, so that one bad
// file cannot stop an import of thousands or take the process down. The cause
// is still a bug; its stack goes to the log.
func recovered(name string, err *error) {
	if r := recover(); r != nil {
		log.Printf("cache: internal error while reading %s: %v\n%s", name, r, debug.Stack())
		*err = &RejectError{Name: name, Err: fmt.Errorf("internal error while reading: %v", r)}
	}
}

// guarded runs fn under recovered.
func guarded(name string, fn func()) (err error) {
	defer recovered(name, &err)
	fn()
	return nil
}
