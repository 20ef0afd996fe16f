//go:build teleread_bench

package cache

// SetSealing turns the sealing of newly written files off (false) or back on,
// so that the benchmark report can measure what encryption at rest costs
// against the same cache without it. It exists only in builds with the
// teleread_bench tag (`make bench`): the application has no way to write
// plain files.
func SetSealing(on bool) { sealFiles = on }
