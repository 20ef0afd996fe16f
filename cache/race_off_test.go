//go:build !race

package cache

// raceSlack scales the allocation bounds of the hostile-input tests (see
// race_on_test.go); a plain build holds them exactly.
const raceSlack = 1
