// Package dataset reads DICOM files (PS3.10) into data sets without decoding pixel
// data: the cheap metadata path that indexing, the tag browser and the pixel
// pipeline all start from.
//
// It is written for hostile input. Every declared length is checked against what
// is left in the file (or in the enclosing item) before anything is allocated, so a
// small file declaring a 1 GiB value is refused instead of allocating 1 GiB; a
// truncated file is an error, never a silently shorter data set. Pixel Data is
// located, not read: File.Pixel gives its byte ranges in File.Source, and the
// pixel pipeline reads only the frame it needs.
//
// Files without a meta header or preamble are common in archives (old modality
// exports); their encoding is sniffed from the first element. Explicit VR data
// sets that carry implicit VR sequences (a known writer bug) are read element by
// element: an element whose VR bytes are not a VR is read as implicit VR.
package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Sentinel errors callers branch on; each is returned wrapped in an *Error that
// names the file and the offset.
var (
	// ErrNotDICOM: the input is neither a PS3.10 file nor a recognisable bare data set.
	ErrNotDICOM = errors.New("not a DICOM file")
	// ErrTruncated: the input ends inside an element, item or pixel data.
	ErrTruncated = errors.New("truncated data")
	// ErrValueTooLong: a declared value length exceeds what is left of the input.
	ErrValueTooLong = errors.New("value length exceeds remaining data")
	// ErrNoTransferSyntax: the meta header lacks (0002,0010) Transfer Syntax UID.
	ErrNoTransferSyntax = errors.New("meta header has no transfer syntax")
	// ErrMalformed: structurally invalid encoding (bad delimiters, nesting too deep).
	ErrMalformed = errors.New("malformed data set")
)

// Error describes where parsing failed.
type Error struct {
	Name   string // file name or path
	Offset int64  // byte offset in the (inflated) data set where the problem was found
	Tag    Tag    // the element being read, when known
	Err    error
}

func (e *Error) Error() string {
	if e.Tag != 0 {
		return fmt.Sprintf("dicom: %q: at offset %d, element %s: %v", e.Name, e.Offset, e.Tag, e.Err)
	}
	return fmt.Sprintf("dicom: %q: at offset %d: %v", e.Name, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// String formats a tag as (GGGG,EEEE).
func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", t.Group(), t.Element()) }

// Fragment is the byte range of one encapsulated item's value in File.Source.
type Fragment struct{ Offset, Length int64 }

// Warning is a deviation from the standard that the parser tolerated, as other
// readers do, instead of refusing the file.
type Warning struct {
	Offset int64 // of the offending header in the (inflated) data set
	Tag    Tag
	Msg    string
}

func (w Warning) String() string {
	return fmt.Sprintf("at offset %d, element %s: %s", w.Offset, w.Tag, w.Msg)
}

// Pixels locates the pixel data element without reading it.
type Pixels struct {
	Tag          Tag    // PixelData, FloatPixelData or DoubleFloatPixelData
	VR           string // OB, OW, OF or OD
	Encapsulated bool
	// Native: the value's byte range in File.Source.
	Offset, Length int64
	// Encapsulated: the Basic Offset Table (empty when absent; offsets are
	// relative to the first byte of the first fragment's item header) and the
	// items after it.
	OffsetTable []uint32
	Fragments   []Fragment
	// FragmentItemOffsets holds the offset of each fragment's item header relative
	// to the first fragment's item header, the unit Basic Offset Table entries use.
	FragmentItemOffsets []int64
}

// File is a parsed DICOM file.
type File struct {
	Name     string   // path or name, used in error messages
	Meta     *DataSet // file meta information (group 0002); empty when the file has none
	*DataSet          // the data set proper; Pixel Data is described by Pixel, not stored as a value
	// TransferSyntax comes from the meta header, or is the UID of the detected
	// encoding when the file has none.
	TransferSyntax string
	// HasMeta reports whether the file has a meta header (with or without preamble).
	HasMeta bool
	Pixel   *Pixels     // nil when there is no pixel data
	Source  io.ReaderAt // where Pixel offsets point: the file, or the inflated data set
	size    int64       // size of Source
	mem     []byte      // Source's bytes when it is in memory
	release func()      // gives mem back to its pool (Close)
	closer  io.Closer

	// Warnings lists the deviations from the standard that were tolerated
	// (a stray item or sequence delimiter at the top level), in file order.
	Warnings []Warning
}

// Close releases the file opened by Open.
func (f *File) Close() error {
	if f.release != nil {
		// The inflated data set goes back to the pool: nothing may read it now.
		f.release()
		f.release, f.mem, f.size, f.Source = nil, nil, 0, bytes.NewReader(nil)
	}
	if f.closer != nil {
		err := f.closer.Close()
		f.closer = nil
		return err
	}
	return nil
}

// SourceSize returns the number of bytes in Source.
func (f *File) SourceSize() int64 { return f.size }

// ReadPixelRange reads n bytes at off from Source, refusing ranges outside it.
func (f *File) ReadPixelRange(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, &Error{Name: f.Name, Offset: off, Tag: PixelData, Err: ErrTruncated}
	}
	b := make([]byte, n)
	if err := f.ReadPixelRangeInto(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// ReadPixelRangeInto reads len(dst) bytes at off from Source into dst,
// refusing ranges outside it.
func (f *File) ReadPixelRangeInto(dst []byte, off int64) error {
	n := int64(len(dst))
	if off < 0 || off > f.size || n > f.size-off {
		return &Error{Name: f.Name, Offset: off, Tag: PixelData, Err: ErrTruncated}
	}
	if f.mem != nil {
		copy(dst, f.mem[off:off+n])
		return nil
	}
	if m, err := f.Source.ReadAt(dst, off); err != nil && !(errors.Is(err, io.EOF) && int64(m) == n) {
		return &Error{Name: f.Name, Offset: off, Tag: PixelData, Err: fmt.Errorf("read: %w", err)}
	}
	return nil
}

// PixelView returns the n bytes at off in Source, refusing ranges outside it.
// When Source is in memory (an inflated data set) they are Source's own bytes, not a copy: callers must not modify them,
// nor use them after Close.
// Otherwise they are read into buf when it can hold them, or into a new slice.
func (f *File) PixelView(off, n int64, buf []byte) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, &Error{Name: f.Name, Offset: off, Tag: PixelData, Err: ErrTruncated}
	}
	if f.mem != nil {
		return f.mem[off : off+n : off+n], nil
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if err := f.ReadPixelRangeInto(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

// Open parses the file at path. The file stays open (for pixel reads) until Close.
func Open(path string) (*File, error) {
	fh, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("dicom: open: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("dicom: stat %s: %w", path, err)
	}
	f, err := Parse(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	if f.Source == io.ReaderAt(fh) {
		f.closer = fh
	} else {
		fh.Close() // deflated: Source is the inflated copy in memory
	}
	return f, nil
}

// OpenReaderAt parses the file of the given size read through r (a file that
// is decrypted on read, say); closer, if not nil, is closed by the File's Close,
// or at once when parsing fails or the data set is inflated into memory.
func OpenReaderAt(r io.ReaderAt, size int64, name string, closer io.Closer) (*File, error) {
	f, err := Parse(r, size, name)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	if f.release == nil {
		f.closer = closer // Source is r
	} else if closer != nil {
		closer.Close() // deflated: Source is the inflated copy in memory
	}
	return f, nil
}

// maxDepth bounds sequence nesting; real data sets nest a handful of levels.
const maxDepth = 64

// Parse reads a DICOM file of the given size from r. name is used in errors.
func Parse(r io.ReaderAt, size int64, name string) (*File, error) {
	return parse(r, size, name, nil)
}

// ParseBytes parses a DICOM file held in memory, read in place rather than
// through a copying window (see Parse). Values are copied out; the File
// reads pixel data from data, which must not change while the File is used.
func ParseBytes(data []byte, name string) (*File, error) {
	return parse(bytes.NewReader(data), int64(len(data)), name, data)
}

// parse is Parse; whole, if not nil, is the file's bytes (r reads the same).
func parse(r io.ReaderAt, size int64, name string, whole []byte) (*File, error) {
	f := &File{Name: name, Meta: &DataSet{}, Source: r, size: size}
	// The read window is pooled, since nothing keeps it after parsing (values
	// are copied out). Its first fill, from the start of the file, holds the
	// preamble and goes from the meta header's parser to the data set's; a file
	// no larger than the window is read with that one read.
	var win []byte
	if whole == nil {
		wp, ok := windowPool.get()
		if !ok {
			b := make([]byte, windowSize)
			wp = &b
		}
		defer windowPool.put(wp)
		win = (*wp)[:min(int64(len(*wp)), max(size, 0))]
		m, _ := r.ReadAt(win, 0)
		win = win[:m]
	}
	winOff := int64(0)
	head := whole
	if whole == nil {
		head = win
	}
	head = head[:min(132, len(head))]
	mem := whole       // the data set in memory: the file, or a deflated one inflated
	var chunks *parser // the meta header's parser, whose chunks are handed on
	n := len(head)
	var start int64
	switch {
	case n >= 132 && string(head[128:132]) == "DICM":
		start = 132
		f.HasMeta = true
	case n >= 4 && string(head[0:4]) == "DICM":
		start = 4 // meta header without the 128-byte preamble
		f.HasMeta = true
	}
	if !f.HasMeta && n >= 8 && binary.LittleEndian.Uint16(head[0:2]) == 0x0002 {
		// A meta group without preamble or "DICM" prefix (some toolkits write this).
		f.HasMeta = true
	}
	if f.HasMeta {
		p := newParser(r, size, name, false, true)
		p.mem, p.win, p.winOff = whole, win, winOff
		p.pos = start
		meta, err := p.readDataSet(-1, 0, func(t Tag) bool { return t.Group() != 0x0002 })
		if err != nil {
			return nil, err
		}
		win, winOff = p.win, p.winOff
		chunks = p
		f.Meta = meta
		f.TransferSyntax = meta.String(TransferSyntaxUID)
		if f.TransferSyntax == "" {
			return nil, &Error{Name: name, Offset: start, Tag: TransferSyntaxUID, Err: ErrNoTransferSyntax}
		}
		start = p.pos
	} else {
		ts, err := sniff(head)
		if err != nil {
			return nil, &Error{Name: name, Offset: 0, Err: err}
		}
		f.TransferSyntax = ts
	}

	bigEndian := f.TransferSyntax == ExplicitVRBigEndian
	explicit := f.TransferSyntax != ImplicitVRLittleEndian
	src, srcSize, off := r, size, start
	if f.TransferSyntax == DeflatedExplicitVRLittleEndian {
		if whole == nil && int64(len(win)) == size {
			whole = win // the window holds all of the file
		}
		inflated, release, err := inflate(r, whole, start, size)
		if err != nil {
			return nil, &Error{Name: name, Offset: start, Err: err}
		}
		f.release = release
		src, srcSize, off = bytes.NewReader(inflated), int64(len(inflated)), 0
		f.Source, f.size, f.mem = src, srcSize, inflated
		mem, win, winOff = inflated, nil, -1
	}
	p := newParser(src, srcSize, name, bigEndian, explicit)
	p.mem, p.win, p.winOff = mem, win, winOff
	if chunks != nil {
		// What is left of the meta header's chunks serves the data set.
		p.arena, p.elems, p.arenaNext, p.elemsNext = chunks.arena, chunks.elems, chunks.arenaNext, chunks.elemsNext
	}
	p.pos = off
	p.pixel = &f.Pixel
	ds, err := p.readDataSet(-1, 0, nil)
	if err != nil {
		if f.release != nil {
			f.release()
		}
		return nil, err
	}
	ds.adoptItems()
	f.DataSet = ds
	f.Warnings = p.warnings
	return f, nil
}

// sniff detects the encoding of a data set that has no meta header from its first
// element: group numbers of the first elements are small (0x0008 usually), and an
// explicit VR element has two upper-case letters after its tag.
func sniff(b []byte) (string, error) {
	if len(b) < 8 {
		return "", ErrNotDICOM
	}
	vrOK := isVR(b[4], b[5])
	groupLE := binary.LittleEndian.Uint16(b[0:2])
	groupBE := binary.BigEndian.Uint16(b[0:2])
	switch {
	case vrOK && b[1] == 0 && groupLE != 0 && groupLE <= 0x0010:
		return ExplicitVRLittleEndian, nil
	case vrOK && b[0] == 0 && groupBE != 0 && groupBE <= 0x0010:
		return ExplicitVRBigEndian, nil
	case b[1] == 0 && groupLE != 0 && groupLE <= 0x0010 && b[3] == 0 || b[1] == 0 && groupLE == 0x0008:
		// Implicit VR: the tag is followed by a 4-byte length; the first element of
		// a bare data set is in group 0008 (or a group length in 0000-0010).
		return ImplicitVRLittleEndian, nil
	}
	return "", ErrNotDICOM
}

var inflatedPool = freeList[*[]byte]{max: 2} // inflated data sets given back by Close

// inflate inflates the deflated data set that starts at start. whole, when
// set, is the whole input in memory. The result is in a pooled buffer that
// release gives back; nothing may use it after.
func inflate(r io.ReaderAt, whole []byte, start, size int64) (out []byte, release func(), err error) {
	inflating <- struct{}{}
	defer func() { <-inflating }()
	var in func() ([]byte, error)
	if whole != nil {
		rest := whole[start:]
		in = func() ([]byte, error) {
			if rest == nil {
				return nil, io.EOF
			}
			b := rest
			rest = nil
			return b, nil
		}
	} else {
		sr := io.NewSectionReader(r, start, size-start)
		chunk := make([]byte, 64<<10)
		in = func() ([]byte, error) {
			n, err := sr.Read(chunk)
			if n > 0 {
				return chunk[:n], nil
			}
			if err == nil {
				err = io.EOF
			}
			return nil, err
		}
	}
	d, err := newZInflater()
	if err != nil {
		return nil, nil, fmt.Errorf("inflate deflated data set: %w", err)
	}
	defer d.close()
	bp, ok := inflatedPool.get()
	if !ok {
		b := make([]byte, 0, min(max(16*(size-start), 64<<10), MaxInflatedSize+1))
		bp = &b
	}
	release = func() {
		if cap(*bp) <= maxKeptInflateBuffer {
			*bp = (*bp)[:0]
			inflatedPool.put(bp)
		}
	}
	// Inflate into the reused buffer, doubling it when full: the output is
	// neither regrown in small steps nor copied out.
	grow := func(buf []byte) ([]byte, error) {
		if len(buf) > MaxInflatedSize {
			return buf, fmt.Errorf("larger than %d bytes: %w", int64(MaxInflatedSize), ErrBudget)
		}
		buf = slices.Grow(buf, min(max(len(buf), 1), MaxInflatedSize+1-len(buf)))
		*bp = buf
		return buf, nil
	}
	buf, err := d.inflateInto(in, (*bp)[:0], grow)
	*bp = buf
	if err != nil {
		return nil, nil, fmt.Errorf("inflate deflated data set: %w", err)
	}
	if len(buf) > MaxInflatedSize {
		return nil, nil, fmt.Errorf("inflate deflated data set: larger than %d bytes: %w", int64(MaxInflatedSize), ErrBudget)
	}
	return buf, release, nil
}

// maxKeptInflateBuffer is the largest inflate buffer kept for the next call.
const maxKeptInflateBuffer = 8 << 20

// parser reads elements through a window buffer so that small header reads do not
// each cost a system call.
type parser struct {
	src       io.ReaderAt
	size      int64
	name      string
	bigEndian bool
	explicit  bool
	pos       int64
	win       []byte
	winOff    int64
	// mem, when set, is the whole source in memory (an inflated data set):
	// peek slices it instead of reading; values are still copied out, since
	// mem goes back to a pool when the file is closed.
	mem      []byte
	pixel    **Pixels // where top-level pixel data is recorded; nil inside meta
	warnings []Warning
	// arena and elems hand out value bytes and elements in chunks, so a data set
	// of a few hundred elements costs a few allocations instead of hundreds.
	arena     []byte
	elems     []Element
	arenaNext int // size of the next arena chunk
	elemsNext int // size of the next element chunk

	spent int64 // memory charged to the budget (budget.go)
}

// windowSize is the parser's read window; files no larger are read at once.
const windowSize = 64 << 10

// windowPool holds read windows of windowSize bytes.
var windowPool = freeList[*[]byte]{max: 4}

// freeList keeps up to max values between uses. Unlike a sync.Pool it is not
// emptied by garbage collection, which while a series is decoded comes every
// few files: the buffers it holds would be allocated and faulted in again.
type freeList[T any] struct {
	mu   sync.Mutex
	free []T
	max  int
}

// get takes a kept value, if there is one.
func (l *freeList[T]) get() (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var v T
	if n := len(l.free); n > 0 {
		v, l.free[n-1] = l.free[n-1], v
		l.free = l.free[:n-1]
		return v, true
	}
	return v, false
}

// put keeps v unless max values are kept already.
func (l *freeList[T]) put(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < l.max {
		l.free = append(l.free, v)
	}
}

// Chunk sizes of the parser's value and element allocations.
const (
	arenaChunk = 8 << 10
	elemChunk  = 64
)

// value returns n bytes for an element value (n > 0).
func (p *parser) value(n int) []byte {
	if n > len(p.arena) {
		if n > arenaChunk/4 {
			return make([]byte, n)
		}
		// Chunks grow from a quarter of arenaChunk, so a small data set
		// costs little.
		p.arenaNext = min(max(2*p.arenaNext, arenaChunk/4), arenaChunk)
		p.arena = make([]byte, max(p.arenaNext, n))
	}
	b := p.arena[:n:n]
	p.arena = p.arena[n:]
	return b
}

// element returns a new element.
func (p *parser) element(t Tag, vr string) *Element {
	if len(p.elems) == 0 {
		p.elemsNext = min(max(2*p.elemsNext, elemChunk/4), elemChunk)
		p.elems = make([]Element, p.elemsNext)
	}
	el := &p.elems[0]
	p.elems = p.elems[1:]
	el.Tag, el.VR = t, vr
	return el
}

func newParser(src io.ReaderAt, size int64, name string, bigEndian, explicit bool) *parser {
	return &parser{src: src, size: size, name: name, bigEndian: bigEndian, explicit: explicit, winOff: -1}
}

func (p *parser) errAt(off int64, t Tag, err error) error {
	return &Error{Name: p.name, Offset: off, Tag: t, Err: err}
}

// peek returns n (small) bytes at pos without advancing, or fewer at the end.
func (p *parser) peek(n int) []byte {
	if p.mem != nil {
		if p.pos >= int64(len(p.mem)) {
			return nil
		}
		return p.mem[p.pos:min(p.pos+int64(n), int64(len(p.mem)))]
	}
	if p.winOff < 0 || p.pos < p.winOff || p.pos+int64(n) > p.winOff+int64(len(p.win)) {
		if p.win == nil {
			p.win = make([]byte, min(windowSize, max(p.size, 1)))
		}
		p.win = p.win[:cap(p.win)]
		m, _ := p.src.ReadAt(p.win, p.pos)
		p.win = p.win[:m]
		p.winOff = p.pos
	}
	i := int(p.pos - p.winOff)
	end := i + n
	if end > len(p.win) {
		end = len(p.win)
	}
	return p.win[i:end]
}

func (p *parser) u16(b []byte) uint16 {
	if p.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (p *parser) u32(b []byte) uint32 {
	if p.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

const undefinedLength = 0xFFFFFFFF

// header is one element header as read.
type header struct {
	tag    Tag
	vr     string
	length uint32
	start  int64 // offset of the header
}

// readHeader reads an element header at pos. end is the end of the enclosing
// container (-1: end of input).
func (p *parser) readHeader(end int64) (header, error) {
	limit := p.size
	if end >= 0 {
		limit = end
	}
	h := header{start: p.pos}
	b := p.peek(8)
	if len(b) < 8 || p.pos+8 > limit {
		return h, p.errAt(p.pos, 0, ErrTruncated)
	}
	h.tag = T(p.u16(b[0:2]), p.u16(b[2:4]))
	if h.tag.Group() == 0xFFFE {
		h.length = p.u32(b[4:8])
		p.pos += 8
		return h, nil
	}
	if vr, long, ok := vrOf(b[4], b[5]); p.explicit && ok {
		h.vr = vr
		if long {
			b = p.peek(12)
			if len(b) < 12 || p.pos+12 > limit {
				return h, p.errAt(p.pos, h.tag, ErrTruncated)
			}
			h.length = p.u32(b[8:12])
			p.pos += 12
		} else {
			h.length = uint32(p.u16(b[6:8]))
			p.pos += 8
		}
		return h, nil
	}
	// Implicit VR (by transfer syntax, or an implicit element inside an explicit
	// data set, as some writers produce).
	h.length = p.u32(b[4:8])
	h.vr = dictVR(h.tag)
	p.pos += 8
	return h, nil
}

// readDataSet reads elements until end (-1: end of input; undefined-length items
// stop at the item delimiter), or until stop says the next tag belongs elsewhere.
func (p *parser) readDataSet(end int64, depth int, stop func(Tag) bool) (*DataSet, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.pos, 0, fmt.Errorf("sequences nested deeper than %d: %w", maxDepth, ErrMalformed))
	}
	ds := &DataSet{bigEndian: p.bigEndian}
	for {
		if end >= 0 && p.pos >= end {
			if p.pos > end {
				return nil, p.errAt(p.pos, 0, fmt.Errorf("element overruns its item: %w", ErrMalformed))
			}
			return ds, nil
		}
		if end < 0 && p.pos >= p.size {
			return ds, nil
		}
		if stop != nil {
			b := p.peek(4)
			if len(b) < 4 {
				return ds, nil
			}
			if stop(T(p.u16(b[0:2]), p.u16(b[2:4]))) {
				return ds, nil
			}
		}
		if end < 0 && p.size-p.pos < 8 {
			// Fewer bytes than an element header at the very end: trailing
			// padding some writers leave. Anything larger is truncation.
			if allZero(p.peek(int(p.size - p.pos))) {
				return ds, nil
			}
			return nil, p.errAt(p.pos, 0, ErrTruncated)
		}
		h, err := p.readHeader(end)
		if err != nil {
			return nil, err
		}
		switch h.tag {
		case ItemDelimitationItem:
			if depth == 0 {
				return nil, p.errAt(h.start, h.tag, fmt.Errorf("item delimiter outside an item: %w", ErrMalformed))
			}
			return ds, errItemEnd
		case SequenceDelimitation:
			if depth == 0 {
				// A stray sequence delimiter at top level: skip it (seen in the wild).
				p.warn(h, "stray sequence delimiter at the top level, skipped")
				continue
			}
			return nil, p.errAt(h.start, h.tag, fmt.Errorf("sequence delimiter inside an item: %w", ErrMalformed))
		case Item:
			if depth == 0 {
				if err := p.skipStrayItem(h, end); err != nil {
					return nil, err
				}
				continue
			}
			return nil, p.errAt(h.start, h.tag, fmt.Errorf("item outside a sequence: %w", ErrMalformed))
		}
		if err := p.spend(elementCost, h.start, h.tag); err != nil {
			return nil, err
		}
		el, err := p.readValue(h, end, depth)
		if err != nil {
			return nil, err
		}
		if el != nil {
			ds.elements = append(ds.elements, el)
		}
	}
}

// errItemEnd signals the item delimiter to readItems; it never escapes.
var errItemEnd = errors.New("item end")

// maxWarnings bounds the warnings kept for one file: one made of nothing but
// stray items would otherwise hold a warning per 8 bytes.
const maxWarnings = 64

func (p *parser) warn(h header, msg string) {
	switch {
	case len(p.warnings) < maxWarnings:
		p.warnings = append(p.warnings, Warning{Offset: h.start, Tag: h.tag, Msg: msg})
	case len(p.warnings) == maxWarnings:
		p.warnings = append(p.warnings, Warning{Offset: h.start, Tag: h.tag, Msg: "more warnings from here on are not listed"})
	}
}

// skipStrayItem skips an Item at the top level of a data set, outside any
// sequence. Some writers leave one (a sequence's length counted short, an
// item header written twice); fo-dicom and pydicom read past it, and so do
// we, with a warning. Its content is not part of the data set: a defined
// length is skipped once it is known to fit what is left; an undefined length
// is read as an item, so that its delimiter is found and not taken for the
// end of something else.
func (p *parser) skipStrayItem(h header, end int64) error {
	if h.length == undefinedLength {
		start := p.pos
		if _, err := p.readDataSet(end, 1, nil); err != errItemEnd {
			if err == nil {
				err = p.errAt(p.pos, h.tag, fmt.Errorf("stray item without its delimiter: %w", ErrTruncated))
			}
			return err
		}
		p.warn(h, fmt.Sprintf("stray item of undefined length (%d bytes) at the top level, outside any sequence: skipped", p.pos-start))
		return nil
	}
	n := int64(h.length)
	if n > p.remaining(end) {
		return p.errAt(h.start, h.tag, fmt.Errorf("stray item length %d, %d bytes left: %w", n, p.remaining(end), ErrValueTooLong))
	}
	p.pos += n
	p.warn(h, fmt.Sprintf("stray item of %d bytes at the top level, outside any sequence: skipped", n))
	return nil
}

func (p *parser) remaining(end int64) int64 {
	if end >= 0 {
		return end - p.pos
	}
	return p.size - p.pos
}

func (p *parser) readValue(h header, end int64, depth int) (*Element, error) {
	el := p.element(h.tag, h.vr)
	isPixel := depth == 0 && p.pixel != nil && (h.tag == PixelData || h.tag == FloatPixelData || h.tag == DoubleFloatPixelData)
	if h.length == undefinedLength {
		switch {
		case isPixel && h.tag == PixelData:
			pd, err := p.readEncapsulated(h, end)
			if err != nil {
				return nil, err
			}
			*p.pixel = pd
			return nil, nil
		case h.tag == PixelData || h.vr == "OB":
			// Encapsulated data below the top level, as in the Icon Image
			// Sequence (0088,0200) of an encapsulated transfer syntax (PS3.5
			// A.4): located like the image's own, never read.
			pd, err := p.readEncapsulated(h, end)
			if err != nil {
				return nil, err
			}
			el.VR, el.Value, el.Fragments = "OB", []byte{}, pd.Fragments
			return el, nil
		case h.vr == "SQ" || h.vr == "UN" || h.vr == "" || !p.explicit:
			// UN with undefined length is an implicit VR little endian sequence (PS3.5 6.2.2).
			saveExplicit, saveBig := p.explicit, p.bigEndian
			if h.vr == "UN" {
				p.explicit, p.bigEndian = false, false
			}
			items, err := p.readItems(-1, depth)
			p.explicit, p.bigEndian = saveExplicit, saveBig
			if err != nil {
				return nil, err
			}
			el.VR, el.Items = "SQ", items
			return el, nil
		default:
			return nil, p.errAt(h.start, h.tag, fmt.Errorf("undefined length on VR %s: %w", h.vr, ErrMalformed))
		}
	}
	n := int64(h.length)
	if n > p.remaining(end) {
		return nil, p.errAt(h.start, h.tag, fmt.Errorf("length %d, %d bytes left: %w", n, p.remaining(end), ErrValueTooLong))
	}
	if isPixel {
		*p.pixel = &Pixels{Tag: h.tag, VR: h.vr, Offset: p.pos, Length: n}
		p.pos += n
		return nil, nil
	}
	if h.vr == "SQ" || (h.vr == "UN" && dictVR(h.tag) == "SQ") {
		items, err := p.readItems(p.pos+n, depth)
		if err != nil {
			return nil, err
		}
		el.VR, el.Items = "SQ", items
		return el, nil
	}
	var b []byte
	switch {
	case n == 0:
		b = []byte{}
	default:
		if err := p.spend(n, h.start, h.tag); err != nil {
			return nil, err
		}
		b = p.value(int(n))
		if w := p.peek(int(min(n, windowSize))); int64(len(w)) == n {
			copy(b, w)
		} else if _, err := p.src.ReadAt(b, p.pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, p.errAt(h.start, h.tag, fmt.Errorf("read value: %w", err))
		}
	}
	p.pos += n
	el.Value = b
	return el, nil
}

// readItems reads the items of a sequence that ends at end (-1: at the sequence
// delimiter).
func (p *parser) readItems(end int64, depth int) ([]*DataSet, error) {
	var items []*DataSet
	for {
		if end >= 0 && p.pos >= end {
			return items, nil
		}
		h, err := p.readHeader(end)
		if err != nil {
			return nil, err
		}
		switch h.tag {
		case SequenceDelimitation:
			if end >= 0 {
				// Tolerated: a delimiter inside a defined-length sequence.
				continue
			}
			return items, nil
		case Item:
		default:
			return nil, p.errAt(h.start, h.tag, fmt.Errorf("expected an item in a sequence: %w", ErrMalformed))
		}
		if err := p.spend(itemCost, h.start, h.tag); err != nil {
			return nil, err
		}
		var item *DataSet
		if h.length == undefinedLength {
			item, err = p.readDataSet(end, depth+1, nil)
			if err != errItemEnd {
				if err == nil {
					err = p.errAt(p.pos, 0, ErrTruncated)
				}
				return nil, err
			}
		} else {
			n := int64(h.length)
			if n > p.remaining(end) {
				return nil, p.errAt(h.start, h.tag, fmt.Errorf("item length %d, %d bytes left: %w", n, p.remaining(end), ErrValueTooLong))
			}
			item, err = p.readDataSet(p.pos+n, depth+1, nil)
			if err == errItemEnd {
				err = nil // a delimiter in a defined-length item: tolerated
			}
			if err != nil {
				return nil, err
			}
		}
		items = append(items, item)
	}
}

// readEncapsulated records the items of encapsulated pixel data.
func (p *parser) readEncapsulated(h header, end int64) (*Pixels, error) {
	pd := &Pixels{Tag: h.tag, VR: h.vr, Encapsulated: true}
	first := true
	var firstItem int64
	for {
		ih, err := p.readHeader(end)
		if err != nil {
			return nil, err
		}
		switch ih.tag {
		case SequenceDelimitation:
			return pd, nil
		case Item:
		default:
			return nil, p.errAt(ih.start, ih.tag, fmt.Errorf("expected a pixel data item: %w", ErrMalformed))
		}
		if ih.length == undefinedLength {
			return nil, p.errAt(ih.start, ih.tag, fmt.Errorf("pixel data item of undefined length: %w", ErrMalformed))
		}
		n := int64(ih.length)
		if n > p.remaining(end) {
			return nil, p.errAt(ih.start, PixelData, fmt.Errorf("fragment length %d, %d bytes left: %w", n, p.remaining(end), ErrValueTooLong))
		}
		if first {
			first = false
			if n%4 != 0 {
				return nil, p.errAt(ih.start, PixelData, fmt.Errorf("basic offset table length %d: %w", n, ErrMalformed))
			}
			if err := p.spend(2*n, ih.start, PixelData); err != nil {
				return nil, err
			}
			if n > 0 {
				b := make([]byte, n)
				if _, err := p.src.ReadAt(b, p.pos); err != nil && !errors.Is(err, io.EOF) {
					return nil, p.errAt(p.pos, PixelData, err)
				}
				pd.OffsetTable = make([]uint32, n/4)
				for i := range pd.OffsetTable {
					pd.OffsetTable[i] = binary.LittleEndian.Uint32(b[4*i:])
				}
			}
			p.pos += n
			firstItem = p.pos
			continue
		}
		if err := p.spend(fragmentCost, ih.start, PixelData); err != nil {
			return nil, err
		}
		pd.FragmentItemOffsets = append(pd.FragmentItemOffsets, ih.start-firstItem)
		pd.Fragments = append(pd.Fragments, Fragment{Offset: p.pos, Length: n})
		p.pos += n
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isVR(a, b byte) bool {
	_, _, ok := vrOf(a, b)
	return ok
}

// vrInfo is one entry of vrTable.
type vrInfo struct {
	name string
	long bool
}

// vrTable indexes vrs by their two letters, (a-'A')*26 + b-'A', so that a
// header's VR is found without a map lookup and kept as the map's own string
// (no allocation per element).
var vrTable = func() (t [26 * 26]vrInfo) {
	for vr, long := range vrs {
		t[int(vr[0]-'A')*26+int(vr[1]-'A')] = vrInfo{vr, long}
	}
	return t
}()

// vrOf returns the VR named by two bytes, whether it has a 4-byte length in
// explicit VR, and whether the bytes name a VR at all.
func vrOf(a, b byte) (vr string, long, ok bool) {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return "", false, false
	}
	e := vrTable[int(a-'A')*26+int(b-'A')]
	return e.name, e.long, e.name != ""
}

// vrs lists the value representations of PS3.5 Table 6.2-1; true marks those with
// a reserved field and 4-byte length in explicit VR.
var vrs = map[string]bool{
	"AE": false, "AS": false, "AT": false, "CS": false, "DA": false, "DS": false, "DT": false,
	"FL": false, "FD": false, "IS": false, "LO": false, "LT": false, "PN": false, "SH": false,
	"SL": false, "SS": false, "ST": false, "TM": false, "UI": false, "UL": false, "US": false,
	"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true, "SQ": true,
	"SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true,
}
