package sync

import "teleread/cache"

// The cache is the store the puller fills.
var _ Store = (*cache.Cache)(nil)
