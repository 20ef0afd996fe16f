package sync

import (
	"bufio"
	"bytes"
	"io"
	gosync "sync"

	"teleread/cache"
)

// partSink receives the parts of a WADO-RS multipart answer (one instance
// each) for one series. Part is handed to the client as its PartFunc; Flush
// waits until everything received is durable (or failed) and returns the
// first error since the last Flush.
type partSink interface {
	Part(part io.Reader) error
	Flush() error
}

// newSink returns the sink for one series of a study: a staging sink when
// the store can stage in batches, otherwise one that stores each part as it
// comes.
func (p *Puller) newSink(progress *studyProgress) partSink {
	bs, ok := p.Store.(BatchStore)
	if !ok {
		return &storeSink{store: p.Store, progress: progress}
	}
	b := bs.NewBatch(sourceArchive)
	return &stagingSink{
		batch:  b,
		commit: newCommitter(b, progress),
		name:   "study " + progress.uid,
		slots:  make(chan struct{}, stageWorkers),
	}
}

// storeSink stores each part atomically through Store.StoreInstance (two
// fsyncs per instance) as it arrives.
type storeSink struct {
	store    Store
	progress *studyProgress
}

func (s *storeSink) Part(part io.Reader) error {
	cr := &countingReader{r: part}
	sop, err := s.store.StoreInstance(cr, "study "+s.progress.uid)
	if err != nil {
		return err
	}
	s.progress.stored(cr.n, sop)
	return nil
}

func (s *storeSink) Flush() error { return nil }

// stagingSink stages parts in a cache batch (parsed, checksummed, sealed and
// written to a temporary file: beside where it will be stored, or under the
// cache's tmp/ for a big one) and hands each staged instance to its
// committer, which makes groups durable (one filesystem sync per group, not
// two fsyncs per instance). Staging runs on stageWorkers goroutines while the
// next part is read from the network. Parts up to stageInMemory bytes are
// read whole into pooled buffers first (so at most stageWorkers times that is
// held in memory); bigger ones are staged as they stream, after the ones
// before them. The ceilings of a part are the client's (Config.MaxPartBytes:
// a longer part fails as ErrCutOff) and the cache's (cache.MaxInstanceSize).
// A part that fails (cut off, not DICOM, truncated) stages nothing: the batch
// removes its temporary file, and only a commit renames a staged file into
// place, so no half-written instance is ever in the cache.
type stagingSink struct {
	batch  *cache.Batch
	commit *committer
	name   string
	slots  chan struct{} // staging goroutines running

	wg  gosync.WaitGroup // staging goroutines
	mu  gosync.Mutex
	err error // the first staging error since the last Flush
}

func (s *stagingSink) Part(part io.Reader) error {
	buf := partPool.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(part, stageInMemory+1)); err != nil {
		partPool.Put(buf)
		return err
	}
	if int64(buf.Len()) > stageInMemory {
		// A big instance (a long cine): stage it while it streams, after
		// the smaller ones before it.
		s.wg.Wait()
		cr := &countingReader{r: io.MultiReader(bytes.NewReader(buf.Bytes()), part)}
		sop, err := s.batch.Add(cr, s.name)
		partPool.Put(buf)
		s.staged(sop, cr.n, err)
	} else {
		s.slots <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			var sop string
			err := guard("stage an instance of "+s.name, func() (err error) {
				sop, err = s.batch.AddBytes(buf.Bytes(), s.name)
				return err
			})
			n := int64(buf.Len())
			partPool.Put(buf)
			s.staged(sop, n, err)
		}()
	}
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.commit.failed()
}

// staged hands a staged instance to the committer, or keeps the first error.
// It runs before the staging goroutine's wg.Done, so Flush's wg.Wait orders
// the commit it starts before the committer's wait.
func (s *stagingSink) staged(sop string, n int64, err error) {
	if err != nil {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
		return
	}
	s.commit.staged(sop, n)
}

func (s *stagingSink) Flush() error {
	s.wg.Wait()
	cerr := s.commit.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.err = nil
	if err == nil {
		err = cerr
	}
	return err
}

// skipStored passes on to fn only the parts of a partly cached series'
// retrieve that the store lacks: a part whose first bytes name an instance
// the plan found cached, or one stored since (a slice the reader scrolled
// onto, FetchInstance), is read past and dropped, so that no instance is
// stored twice. A part whose first bytes do not name it (a deflated or
// big-endian data set) goes on: the store keeps one copy.
func (p *Puller) skipStored(sw *seriesWork, fn PartFunc) PartFunc {
	missing := make(map[string]bool, len(sw.missing))
	for _, sop := range sw.missing {
		missing[sop] = true
	}
	listed := make(map[string]bool, len(sw.all))
	for _, sop := range sw.all {
		listed[sop] = true
	}
	return func(part io.Reader) error {
		br := bufio.NewReaderSize(part, partHead)
		head, _ := br.Peek(partHead)
		if sop := headSOPInstanceUID(head); sop != "" {
			if listed[sop] && !missing[sop] {
				return nil // cached before the plan: the client reads past it
			}
			if has, err := p.Store.HasInstance(sop); err == nil && has {
				return nil
			}
		}
		return fn(br)
	}
}

// partPool holds the buffers retrieved parts are read into before staging:
// reused, they spare allocating and zeroing a new buffer per instance.
var partPool = gosync.Pool{New: func() any { return new(bytes.Buffer) }}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
