package dataset

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrBudget marks a data set that needs more memory than a reader grants one
// file: more elements, items or fragments, more value bytes to copy out, or a
// deflated data set that inflates to more than MaxInflatedSize. Real files stay
// far below; crafted ones (a 64 MB file of 8-byte empty elements, a 131 KB
// deflate stream of 128 MiB of zeros) meet it after a few megabytes.
var ErrBudget = errors.New("data set exceeds the reader's memory budget")

// Budgets of one parsed file. Together they bound what Parse keeps, whatever
// the file declares: MaxDataSetMemory for what is copied out, plus the
// inflated data set of a deflated file (MaxInflatedSize, 1.5x that while it
// grows). Pixel data are located, never copied, and so count only by their
// fragments.
const (
	// MaxInflatedSize bounds the inflated size of a deflated data set. The
	// deflated transfer syntax is used for structured reports and small
	// images; 64 MiB is many times the largest seen.
	MaxInflatedSize = 64 << 20
	// MaxDataSetMemory bounds the memory the parsed data set holds: every
	// element, item and fragment at its in-memory cost, and every value
	// byte copied out. The most any corpus file uses is 265 KB (a
	// segmented palette), an enhanced MR with its per-frame groups 86 KB.
	MaxDataSetMemory = 32 << 20
)

// inflating lets one deflated data set inflate at a time in the process:
// while its buffer doubles it briefly holds 1.5x MaxInflatedSize, and import
// workers or viewports inflating at once would multiply that. Deflated files
// are rare (structured reports, a few images), so waiting costs little.
var inflating = make(chan struct{}, 1)

// In-memory costs charged to the budget.
const (
	elementCost  = int64(unsafe.Sizeof(Element{})) + 8 // the element and its pointer in the list
	itemCost     = int64(unsafe.Sizeof(DataSet{})) + 8
	fragmentCost = int64(unsafe.Sizeof(Fragment{})) + 8 // and its item offset
)

// spend charges n bytes to the parser's budget, failing with ErrBudget at the
// element being read once the budget is spent.
func (p *parser) spend(n int64, at int64, t Tag) error {
	p.spent += n
	if p.spent > MaxDataSetMemory {
		return p.errAt(at, t, fmt.Errorf("more than %d bytes of elements and values: %w", int64(MaxDataSetMemory), ErrBudget))
	}
	return nil
}
