package worklist

import "teleread/cache/cachetest"

// The caches these tests open keep their master key wrapped by a test
// passphrase (see UseTestKeystore).
func init() { cachetest.UseTestKeystore() }
