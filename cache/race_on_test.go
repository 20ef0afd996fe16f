//go:build race

package cache

// raceSlack scales the allocation bounds of the hostile-input tests: the race
// detector's instrumentation allocates beside every goroutine and channel, so
// the same refusal costs more under -race than in a plain build. The bounds
// still sit orders of magnitude below what the inputs declare.
const raceSlack = 2
