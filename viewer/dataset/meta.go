package dataset

import "bytes"

// ParseMeta reads only the file meta information (group 0002) at the start of
// head, the first bytes of a file: enough to tell what a file is (a DICOMDIR,
// its transfer syntax) without reading, or inflating, its data set. It fails
// with ErrNotDICOM when head has no meta header, and with ErrTruncated when
// head ends inside it.
func ParseMeta(head []byte, name string) (*DataSet, error) {
	var start int64
	switch {
	case len(head) >= 132 && string(head[128:132]) == "DICM":
		start = 132
	case len(head) >= 4 && string(head[0:4]) == "DICM":
		start = 4
	case len(head) >= 8 && head[0] == 0x02 && head[1] == 0x00:
	default:
		return nil, &Error{Name: name, Err: ErrNotDICOM}
	}
	p := newParser(bytes.NewReader(head), int64(len(head)), name, false, true)
	p.mem, p.pos = head, start
	return p.readDataSet(-1, 0, func(t Tag) bool { return t.Group() != 0x0002 })
}

// Sniff reports, from a file's first bytes (132 or more when the file has
// them), whether it can be DICOM: a preamble and "DICM", a meta header without
// preamble, or a bare data set whose first element looks like one (see
// Parse). It returns an error wrapping ErrNotDICOM otherwise, so that callers
// refuse such input before writing any of it anywhere.
func Sniff(head []byte) error {
	switch {
	case len(head) >= 132 && string(head[128:132]) == "DICM",
		len(head) >= 4 && string(head[0:4]) == "DICM",
		len(head) >= 8 && head[0] == 0x02 && head[1] == 0x00:
		return nil
	}
	if _, err := sniff(head); err != nil {
		return err
	}
	return nil
}
