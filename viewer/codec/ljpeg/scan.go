package ljpeg

// scanComponent is the state of one component while its scan is decoded.
type scanComponent struct {
	index     int // in the frame, which is also its position in an interleaved pixel
	table     *huffTable
	prev, cur []uint16 // reconstructed rows, modulo 2^16, before the point transform
	diff      []int32  // the row's differences
}

func (d *decoder) readScan() error {
	if !d.frameSeen {
		return corrupt("SOS before SOF3")
	}
	b, err := d.segment()
	if err != nil {
		return err
	}
	if len(b) < 1 {
		return corrupt("SOS segment too short")
	}
	ns := int(b[0])
	if ns < 1 || ns > len(d.comps) || len(b) != 4+2*ns {
		return corrupt("SOS with %d components in %d bytes", ns, len(b)+2)
	}
	w := d.width
	scs := make([]scanComponent, ns)
	tabs := make([]*huffTable, ns)
	for i := range scs {
		id, td := b[1+2*i], int(b[2+2*i]>>4)
		idx := -1
		for j, c := range d.comps {
			if c.id == id {
				idx = j
				break
			}
		}
		if idx < 0 {
			return corrupt("SOS names component %d, not in the frame", id)
		}
		for _, s := range scs[:i] {
			if s.index == idx {
				return corrupt("SOS names component %d twice", id)
			}
		}
		if td > 3 || d.tables[td] == nil {
			return corrupt("SOS uses undefined Huffman table %d", td)
		}
		scs[i] = scanComponent{
			index: idx,
			table: d.tables[td],
			prev:  make([]uint16, w),
			cur:   make([]uint16, w),
		}
		tabs[i] = d.tables[td]
	}
	psv := int(b[1+2*ns])
	pt := int(b[3+2*ns] & 15)
	if psv == 0 {
		return unsupported("predictor 0 (hierarchical mode)")
	}
	if psv > 7 {
		return corrupt("predictor %d", psv)
	}
	if pt >= d.precision {
		return corrupt("point transform %d with precision %d", pt, d.precision)
	}
	if err := d.decodeScan(scs, tabs, psv, pt); err != nil {
		return err
	}
	for _, s := range scs {
		d.comps[s.index].decoded = true
	}
	return nil
}

// decodeScan decodes the entropy-coded data of one scan, which starts at d.pos,
// and leaves d.pos on the marker that follows it.
func (d *decoder) decodeScan(scs []scanComponent, tabs []*huffTable, psv, pt int) error {
	w, h, ns := d.width, d.height, len(scs)
	initial := int32(1) << (d.precision - pt - 1)

	var n, next int
	d.clean, n, next = unstuff(d.clean, d.src, d.pos)
	d.br.reset(d.clean, n)

	// The components' difference rows are consecutive in one buffer, so that
	// an interleaved scan stores each difference with a single index.
	diffs := make([]int32, ns*w)
	for i := range scs {
		scs[i].diff = diffs[i*w : (i+1)*w : (i+1)*w]
	}
	// A scan holding every component of the frame in frame order writes its
	// rows into the image together, pixel by pixel.
	together := ns == len(d.comps) && ns > 1
	for i := range scs {
		together = together && scs[i].index == i
	}
	rows := make([][]uint16, ns)
	// A single 9-16 bit component without point transform is reconstructed
	// straight into the image, each row predicted from the one above it there.
	direct := ns == 1 && len(d.comps) == 1 && pt == 0 && d.img.U16 != nil
	ri := d.restartInterval
	left := ri // MCUs (pixels) until the next restart marker
	var resets []int

	for y := 0; y < h; y++ {
		firstRow := y == 0
		resets = resets[:0]
		for x := 0; x < w; {
			if ri > 0 && left == 0 {
				if err := d.restart(&next); err != nil {
					return err
				}
				if x == 0 {
					firstRow = true
				} else {
					resets = append(resets, x)
				}
				left = ri
			}
			end := w
			if ri > 0 && left < w-x {
				end = x + left
			}
			var err error
			if ns == 1 {
				err = decodeDiffs(&d.br, tabs[0], scs[0].diff[x:end])
			} else if ns == 3 {
				err = decodeDiffs3(&d.br, tabs, diffs, w, x, end)
			} else {
				err = decodeDiffsInterleaved(&d.br, tabs, diffs, w, x, end)
			}
			if err != nil {
				return corrupt("row %d: %v", y, err)
			}
			if ri > 0 {
				left -= end - x
			}
			x = end
		}
		if d.br.overrun() {
			return corrupt("truncated: entropy-coded data ends in row %d of %d", y, h)
		}
		for i := range scs {
			s := &scs[i]
			if direct {
				s.cur = d.img.U16[y*w : (y+1)*w]
			}
			p := psv
			if psv == 6 && !firstRow {
				if d.pred6 == pred6Unknown {
					end := w
					if len(resets) > 0 {
						end = resets[0]
					}
					d.pred6 = pred6Correct
					if pred6Overflows(s.prev[:end], s.diff[:end]) {
						d.pred6 = pred6Overflow
					}
				}
				if d.pred6 == pred6Overflow {
					p = psv6Int16
				}
			}
			reconstructRow(s.cur, s.prev, s.diff, p, initial, firstRow, resets)
			if !direct && !together {
				d.store(s.index, y, s.cur, pt)
			}
			rows[i] = s.cur
			s.prev, s.cur = s.cur, s.prev
		}
		if together {
			d.storePixels(y, rows, pt)
		}
	}
	d.pos = next
	return nil
}

// restart moves to the entropy-coded data after the RSTn marker that must
// follow the current restart interval; next is the offset of that marker and
// becomes the offset of the marker after the new interval.
func (d *decoder) restart(next *int) error {
	if d.br.overrun() {
		return corrupt("truncated restart interval")
	}
	p := *next
	if p+1 >= len(d.src) {
		return corrupt("truncated: data ends before a restart marker")
	}
	if m := d.src[p+1]; m < markerRST0 || m > markerRST7 {
		return corrupt("marker %#x where a restart marker was expected", m)
	}
	var n int
	d.clean, n, *next = unstuff(d.clean, d.src, p+2)
	d.br.reset(d.clean, n)
	return nil
}

// store writes one reconstructed row of a component into the image, applying the
// point transform; values are truncated to the sample type as libjpeg does.
func (d *decoder) store(ci, y int, row []uint16, pt int) {
	nc, w := len(d.comps), d.width
	if d.img.U16 != nil {
		out := d.img.U16[y*w*nc : (y+1)*w*nc]
		if nc == 1 {
			if pt == 0 {
				copy(out, row)
				return
			}
			for x, v := range row {
				out[x] = v << pt
			}
			return
		}
		out = out[ci:]
		for x, v := range row {
			out[x*nc] = v << pt
		}
		return
	}
	out := d.img.U8[y*w*nc : (y+1)*w*nc]
	if nc == 1 {
		out = out[:len(row)]
		for x, v := range row {
			out[x] = uint8(v << pt)
		}
		return
	}
	out = out[ci:]
	for x, v := range row {
		out[x*nc] = uint8(v << pt)
	}
}

// storePixels writes one reconstructed row of every component (rows in frame
// order) into the image, interleaving them.
func (d *decoder) storePixels(y int, rows [][]uint16, pt int) {
	nc, w := len(rows), d.width
	if d.img.U8 != nil {
		out := d.img.U8[y*w*nc : (y+1)*w*nc]
		if nc == 3 {
			r, g, b := rows[0][:w], rows[1][:w], rows[2][:w]
			if pt == 0 {
				for x, j := 0, 0; x < len(r) && j+2 < len(out); x, j = x+1, j+3 {
					out[j], out[j+1], out[j+2] = uint8(r[x]), uint8(g[x]), uint8(b[x])
				}
				return
			}
			for x, j := 0, 0; x < len(r) && j+2 < len(out); x, j = x+1, j+3 {
				out[j], out[j+1], out[j+2] = uint8(r[x]<<pt), uint8(g[x]<<pt), uint8(b[x]<<pt)
			}
			return
		}
		for c, row := range rows {
			o := out[c:]
			for x, v := range row {
				o[x*nc] = uint8(v << pt)
			}
		}
		return
	}
	out := d.img.U16[y*w*nc : (y+1)*w*nc]
	for c, row := range rows {
		o := out[c:]
		for x, v := range row {
			o[x*nc] = v << pt
		}
	}
}

// reconstructRow adds the predictions to a row of differences (T.81 H.1.2.1),
// modulo 2^16. The first row of the scan and of each restart interval predicts
// from the left neighbour only, starting from initial; other rows predict their
// first sample from the sample above and the rest with predictor psv. resets
// lists the columns where a restart interval began inside this row: from there
// on the row is treated as a first row.
func reconstructRow(cur, prev []uint16, diff []int32, psv int, initial int32, firstRow bool, resets []int) {
	w := len(cur)
	end := w
	if len(resets) > 0 {
		end = resets[0]
	}
	if firstRow {
		reconstruct1D(cur[:end], diff[:end], initial)
	} else {
		reconstruct2D(cur[:end], prev[:end], diff[:end], psv)
	}
	for i, r := range resets {
		e := w
		if i+1 < len(resets) {
			e = resets[i+1]
		}
		reconstruct1D(cur[r:e], diff[r:e], initial)
	}
}

func reconstruct1D(cur []uint16, diff []int32, initial int32) {
	diff = diff[:len(cur)]
	ra := initial
	for x, dv := range diff {
		ra = (dv + ra) & 0xFFFF
		cur[x] = uint16(ra)
	}
}

// reconstruct2D handles a row below another: the first sample is predicted
// from the one above (Rb), the others by predictor psv with Ra left, Rb above
// and Rc above-left, in int32 arithmetic with an arithmetic right shift, as
// libjpeg's jdpred.c does.
func reconstruct2D(cur, prev []uint16, diff []int32, psv int) {
	n := len(cur)
	if n == 0 {
		return
	}
	prev = prev[:n]
	diff = diff[:n]
	ra := (diff[0] + int32(prev[0])) & 0xFFFF
	cur[0] = uint16(ra)
	switch psv {
	case 1:
		for x := 1; x < n; x++ {
			ra = (diff[x] + ra) & 0xFFFF
			cur[x] = uint16(ra)
		}
	case 2:
		for x := 1; x < n; x++ {
			cur[x] = uint16(diff[x] + int32(prev[x]))
		}
	case 3:
		for x := 1; x < n; x++ {
			cur[x] = uint16(diff[x] + int32(prev[x-1]))
		}
	case 4:
		for x := 1; x < n; x++ {
			ra = (diff[x] + ra + int32(prev[x]) - int32(prev[x-1])) & 0xFFFF
			cur[x] = uint16(ra)
		}
	case 5:
		for x := 1; x < n; x++ {
			ra = (diff[x] + ra + (int32(prev[x])-int32(prev[x-1]))>>1) & 0xFFFF
			cur[x] = uint16(ra)
		}
	case 6:
		for x := 1; x < n; x++ {
			ra = (diff[x] + int32(prev[x]) + (ra-int32(prev[x-1]))>>1) & 0xFFFF
			cur[x] = uint16(ra)
		}
	case 7:
		for x := 1; x < n; x++ {
			ra = (diff[x] + (ra+int32(prev[x]))>>1) & 0xFFFF
			cur[x] = uint16(ra)
		}
	case psv6Int16:
		for x := 1; x < n; x++ {
			pred := int32(int16(prev[x])) + (int32(int16(uint16(ra)))-int32(int16(prev[x-1])))>>1
			ra = (diff[x] + pred) & 0xFFFF
			cur[x] = uint16(ra)
		}
	}
}

// psv6Int16 selects predictor 6 computed on signed 16-bit samples, the
// arithmetic of an old encoder (DICOM Objects) whose predictor 6 overflowed.
const psv6Int16 = 8

// What is known about a frame's predictor 6 rows (decoder.pred6).
const (
	pred6Unknown = iota
	pred6Correct
	pred6Overflow
)

// pred6Overflows applies GDCM's test for streams from the encoder whose
// predictor 6 overflowed (SUPPORT_DICOMOBJECTS_BUG in GDCM's jdpred.c, on by
// default): the first row decoded with predictor 6 is reconstructed with the
// standard arithmetic, and a spread of more than 50000 between its smallest
// and largest value marks the stream as made by that encoder, whose rows are
// then all reconstructed with its signed 16-bit arithmetic. The corpus
// references are GDCM decodes, so this reproduces them exactly; DCMTK only
// applies the same arithmetic when asked to (dcmdjpeg +w6).
func pred6Overflows(prev []uint16, diff []int32) bool {
	n := len(diff)
	if n == 0 {
		return false
	}
	prev = prev[:n]
	ra := (diff[0] + int32(prev[0])) & 0xFFFF
	lo, hi := ra, ra
	for x := 1; x < n; x++ {
		ra = (diff[x] + int32(prev[x]) + (ra-int32(prev[x-1]))>>1) & 0xFFFF
		lo = min(lo, ra)
		hi = max(hi, ra)
	}
	return hi-lo > 50000
}
