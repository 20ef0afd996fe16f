package sync

import "teleread/cache"

// BatchStore is a Store that can stage many instances and make them durable
// together (the cache: one filesystem sync per group instead of two fsyncs per
// instance). The puller uses it when the store has it, with source
// cache.SourceArchive: what it stores came from the archive (like
// StoreInstance), which is what lets consultation notes on it be delivered.
type BatchStore interface {
	NewBatch(source string) *cache.Batch
}

// sourceArchive is the source the puller's batches record.
const sourceArchive = cache.SourceArchive

// SeriesCounter is a Store that can say how many instances of a study it
// holds; the puller then skips listing instances of a study it has nothing of.
type SeriesCounter interface {
	StudyInstanceCount(studyUID string) (int, error)
}

// SeriesLister is a Store that can list a series' instances with their
// sizes; the puller then weighs what a series request would bring again of
// a partly cached series (studyPlan.seriesRequestPays).
type SeriesLister interface {
	InstancesOf(seriesUID string) ([]cache.Instance, error)
}

// stageWorkers stage retrieved instances while the next ones arrive: more
// than the cores, because staging often waits in the filesystem (a file
// create waits while a commit's sync holds the journal) and meanwhile the
// others can parse, checksum and write; stageInMemory is the size up to
// which a part is read whole before staging (so at most stageWorkers times
// that is held in memory).
const stageWorkers = 4

// stageInMemory is a variable so that tests can send small parts down the
// streaming path.
var stageInMemory int64 = 16 << 20

// The cache is the store the puller fills.
var (
	_ Store         = (*cache.Cache)(nil)
	_ BatchStore    = (*cache.Cache)(nil)
	_ SeriesCounter = (*cache.Cache)(nil)
	_ SeriesLister  = (*cache.Cache)(nil)
)
