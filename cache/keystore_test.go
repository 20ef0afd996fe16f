package cache

import "teleread/cache/cachetest"

// The caches these tests open, and those of the commands they start, keep
// their master key wrapped by a test passphrase (see UseTestKeystore).
func init() { cachetest.UseTestKeystore() }
