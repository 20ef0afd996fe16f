//go:build !teleread_bench

package main

import "errors"

// benchSeal needs the cache's sealing switch, which only teleread_bench
// builds have.
func benchSeal(b *bench) error {
	return errors.New("needs a build with -tags teleread_bench, as make bench runs it")
}
