package sync

import (
	gosync "sync"

	"teleread/cache"
)

// studyProgress counts the instances made durable toward one study while it
// is retrieved, and reports each step as a StudyProgress event. Every sink
// of the study's series reports to the same one.
type studyProgress struct {
	p     *Puller
	uid   string
	fast  bool // count every new instance (the plan listed none)
	total int

	mu       gosync.Mutex
	expected map[string]bool // listed, not yet stored (not fast)
	seen     map[string]bool // stored so far (fast)
	fetched  int             // instances stored by this retrieve
	done     int             // instances of the study durable
	received int64           // bytes stored by this retrieve
}

// newStudyProgress starts counting from what the plan found durable.
func newStudyProgress(pl *studyPlan) *studyProgress {
	sp := &studyProgress{p: pl.p, uid: pl.uid, fast: pl.fast, total: pl.total, done: pl.done,
		expected: map[string]bool{}, seen: map[string]bool{}}
	for _, sw := range pl.series {
		for _, sop := range sw.all {
			sp.expected[sop] = true
		}
	}
	return sp
}

// stored records n bytes and the instances sops as durable.
func (sp *studyProgress) stored(n int64, sops ...string) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.received += n
	for _, sop := range sops {
		if sp.fast {
			if !sp.seen[sop] {
				sp.seen[sop] = true
				sp.fetched++
				sp.done++
			}
			continue
		}
		if !sp.expected[sop] {
			// The archive sent an instance it did not list: stored,
			// but it does not count toward this study.
			continue
		}
		delete(sp.expected, sop)
		sp.fetched++
		sp.done++
	}
	sp.p.emit(Event{Kind: StudyProgress, StudyUID: sp.uid, Done: sp.done, Total: sp.total, Bytes: sp.received})
}

// counts returns the instances and bytes this retrieve stored and the
// study's durable count.
func (sp *studyProgress) counts() (fetched int, received int64, done int) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.fetched, sp.received, sp.done
}

// committer makes what a batch staged durable and indexed, in the background
// and one commit at a time, each commit taking everything staged since the
// last: the groups grow while the disk is busy and shrink when it is not, so
// little is left to commit when the last part arrives. What each commit
// stored goes to the study's progress, in the order the commits end.
type committer struct {
	batch    *cache.Batch
	progress *studyProgress
	what     string // for a panic's message

	mu      gosync.Mutex
	sizes   map[string]int64 // staged, not yet committed
	err     error            // the first commit error since the last wait
	running bool             // a background commit is running
	again   bool             // something was staged while it ran

	wg       gosync.WaitGroup // the background commit
	commitMu gosync.Mutex     // one Commit at a time
}

func newCommitter(b *cache.Batch, progress *studyProgress) *committer {
	return &committer{batch: b, progress: progress, what: "commit study " + progress.uid, sizes: map[string]int64{}}
}

// staged records an instance of n bytes staged in the batch and starts a
// background commit, or asks the running one for another round.
func (c *committer) staged(sop string, n int64) {
	c.mu.Lock()
	c.sizes[sop] += n
	if c.running {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			if err := guard(c.what, func() error { c.commitOnce(); return nil }); err != nil {
				c.fail(err)
			}
			c.mu.Lock()
			if !c.again {
				c.running = false
				c.mu.Unlock()
				return
			}
			c.again = false
			c.mu.Unlock()
		}
	}()
}

// commitOnce commits what is staged and reports what it stored.
func (c *committer) commitOnce() {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	sops, err := c.batch.Commit()
	var n int64
	c.mu.Lock()
	for _, sop := range sops {
		n += c.sizes[sop]
		delete(c.sizes, sop)
	}
	if err != nil && c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	if len(sops) > 0 {
		c.progress.stored(n, sops...)
	}
}

func (c *committer) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// failed returns the first commit error so far.
func (c *committer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// wait commits everything staged before it was called (the caller has
// waited for staging) and returns the first commit error since the last
// wait, forgetting it.
func (c *committer) wait() error {
	c.wg.Wait()
	c.commitOnce()
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.err
	c.err = nil
	return err
}
