package cache

import (
	"sync"
	"testing"
)

// TestConcurrentOpensOfANewCache opens one new cache from several handles at
// once, as the app and a command started beside it do on a first run: every
// open must succeed (the migrations wait for each other rather than failing
// with SQLITE_BUSY), and all of them must end up with the same keys.
func TestConcurrentOpensOfANewCache(t *testing.T) {
	for round := 0; round < 5; round++ {
		home := t.TempDir()
		const n = 6
		var wg sync.WaitGroup
		caches := make([]*Cache, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				caches[i], errs[i] = Open(home)
			}(i)
		}
		wg.Wait()
		var first []byte
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("round %d: open %d of %d: %v", round, i+1, n, errs[i])
			}
			k := caches[i].RecordKey()
			if first == nil {
				first = k
			} else if string(k) != string(first) {
				t.Errorf("round %d: open %d has another record key than open 1", round, i+1)
			}
		}
		for _, c := range caches {
			c.Close()
		}
	}
}
