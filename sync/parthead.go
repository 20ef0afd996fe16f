package sync

import (
	"encoding/binary"
	"strings"
)

// Tags read from the start of a retrieved part.
const (
	tagMediaStorageSOPInstanceUID = 0x00020003
	tagTransferSyntaxUID          = 0x00020010
	tagSOPInstanceUID             = 0x00080018
)

// headSOPInstanceUID returns the SOP Instance UID that the first bytes of a
// PS3.10 file give, from its meta header (Media Storage SOP Instance UID) or
// else from the data set's own SOP Instance UID, which follows within a few
// elements; "" when head does not reach it or is not such a file. It reads
// only what head holds: it is how a part that was cut off is named, and such
// a part is by definition not whole.
func headSOPInstanceUID(head []byte) string {
	if len(head) < 132 || string(head[128:132]) != "DICM" {
		return ""
	}
	pos, explicit := 132, true
	for {
		tag, _, val, next, ok := headElement(head, pos, true)
		if !ok || tag>>16 != 0x0002 {
			break
		}
		switch tag {
		case tagMediaStorageSOPInstanceUID:
			if u := uidValue(val); ValidUID(u) {
				return u
			}
		case tagTransferSyntaxUID:
			switch uidValue(val) {
			case "1.2.840.10008.1.2": // Implicit VR Little Endian
				explicit = false
			case "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2":
				// A deflated or big-endian data set is not read here.
				return ""
			}
		}
		pos = next
	}
	for {
		tag, _, val, next, ok := headElement(head, pos, explicit)
		if !ok || tag > tagSOPInstanceUID {
			return ""
		}
		if tag == tagSOPInstanceUID {
			if u := uidValue(val); ValidUID(u) {
				return u
			}
			return ""
		}
		pos = next
	}
}

// headElement reads the element at pos of a little-endian data set: its tag,
// VR (explicit only), value and the position after it; ok is false when head
// ends first or the length is undefined.
func headElement(head []byte, pos int, explicit bool) (tag uint32, vr string, val []byte, next int, ok bool) {
	if pos+8 > len(head) {
		return 0, "", nil, 0, false
	}
	tag = uint32(binary.LittleEndian.Uint16(head[pos:]))<<16 | uint32(binary.LittleEndian.Uint16(head[pos+2:]))
	var n uint32
	switch {
	case !explicit:
		n, pos = binary.LittleEndian.Uint32(head[pos+4:]), pos+8
	default:
		vr = string(head[pos+4 : pos+6])
		switch vr {
		case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
			if pos+12 > len(head) {
				return 0, "", nil, 0, false
			}
			n, pos = binary.LittleEndian.Uint32(head[pos+8:]), pos+12
		default:
			n, pos = uint32(binary.LittleEndian.Uint16(head[pos+6:])), pos+8
		}
	}
	if n == 0xFFFFFFFF || uint64(pos)+uint64(n) > uint64(len(head)) {
		return 0, "", nil, 0, false
	}
	return tag, vr, head[pos : pos+int(n)], pos + int(n), true
}

// uidValue is a UI value without its padding.
func uidValue(v []byte) string { return strings.TrimRight(string(v), "\x00 ") }
