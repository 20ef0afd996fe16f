package sync

import "teleread/cache"

// BatchStore is a Store that can stage many instances and make them durable
// together (the cache: one filesystem sync per group instead of two fsyncs per
// instance). The puller uses it when the store has it.
type BatchStore interface {
	NewBatch() *cache.Batch
}

// SeriesCounter is a Store that can say how many instances of a study it
// holds; the puller then skips listing instances of a study it has nothing of.
type SeriesCounter interface {
	StudyInstanceCount(studyUID string) (int, error)
}

// batchSize is how many retrieved instances share one durability point: the
// progress shown moves in steps of this many, and a crash loses at most this
// many (they are fetched again).
const batchSize = 100

// stageWorkers stage retrieved instances while the next ones arrive;
// stageInMemory is the size up to which a part is read whole before staging.
const (
	stageWorkers  = 2
	stageInMemory = 16 << 20
)

// The cache is the store the puller fills.
var (
	_ Store         = (*cache.Cache)(nil)
	_ BatchStore    = (*cache.Cache)(nil)
	_ SeriesCounter = (*cache.Cache)(nil)
)
