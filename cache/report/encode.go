package report

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// elem is one data element to be written in Explicit VR Little Endian.
// A sequence has VR "SQ", no value and its items; every other element has
// its value bytes (unpadded; padding is added when encoding).
type elem struct {
	tag   uint32
	vr    string
	value []byte
	items [][]elem
}

func tagOf(group, element uint16) uint32 { return uint32(group)<<16 | uint32(element) }

func str(group, element uint16, vr, value string) elem {
	return elem{tag: tagOf(group, element), vr: vr, value: []byte(value)}
}

func raw(group, element uint16, vr string, value []byte) elem {
	return elem{tag: tagOf(group, element), vr: vr, value: value}
}

func seq(group, element uint16, items ...[]elem) elem {
	return elem{tag: tagOf(group, element), vr: "SQ", items: items}
}

// longVR lists the VRs whose explicit VR header has two reserved bytes and a
// 32-bit length (PS3.5 7.1.2).
var longVR = map[string]bool{
	"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true,
}

// encodeDataSet appends the elements, sorted by tag, to dst. Sequences and
// items are written with defined lengths, so readers need no delimiters.
func encodeDataSet(dst []byte, elems []elem) ([]byte, error) {
	sorted := make([]elem, len(elems))
	copy(sorted, elems)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].tag < sorted[j].tag })
	for i := range sorted {
		if i > 0 && sorted[i].tag == sorted[i-1].tag {
			return nil, fmt.Errorf("report: encode: duplicate tag %08X", sorted[i].tag)
		}
		var err error
		if dst, err = encodeElem(dst, sorted[i]); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func encodeElem(dst []byte, e elem) ([]byte, error) {
	if len(e.vr) != 2 {
		return nil, fmt.Errorf("report: encode %08X: bad VR %q", e.tag, e.vr)
	}
	var value []byte
	if e.vr == "SQ" {
		for _, item := range e.items {
			body, err := encodeDataSet(nil, item)
			if err != nil {
				return nil, err
			}
			if uint64(len(body)) >= 0xFFFFFFFF {
				return nil, fmt.Errorf("report: encode %08X: %w", e.tag, ErrValueTooLong)
			}
			value = binary.LittleEndian.AppendUint16(value, 0xFFFE)
			value = binary.LittleEndian.AppendUint16(value, 0xE000)
			value = binary.LittleEndian.AppendUint32(value, uint32(len(body)))
			value = append(value, body...)
		}
	} else {
		value = e.value
		if len(value)%2 == 1 {
			pad := byte(' ')
			switch e.vr {
			case "UI", "OB", "UN":
				pad = 0
			}
			value = append(append(make([]byte, 0, len(value)+1), value...), pad)
		}
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(e.tag>>16))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(e.tag))
	dst = append(dst, e.vr...)
	if longVR[e.vr] {
		if uint64(len(value)) >= 0xFFFFFFFF {
			return nil, fmt.Errorf("report: encode %08X: %w", e.tag, ErrValueTooLong)
		}
		dst = append(dst, 0, 0)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(value)))
	} else {
		if len(value) > 0xFFFF {
			return nil, fmt.Errorf("report: encode %08X: %w", e.tag, ErrValueTooLong)
		}
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(value)))
	}
	return append(dst, value...), nil
}

// encodePart10 returns a complete DICOM file (PS3.10): preamble, "DICM",
// File Meta Information with its group length, then the data set in
// Explicit VR Little Endian.
func encodePart10(sopClass, sopInstance string, dataSet []elem) ([]byte, error) {
	meta := []elem{
		raw(0x0002, 0x0001, "OB", []byte{0, 1}),
		str(0x0002, 0x0002, "UI", sopClass),
		str(0x0002, 0x0003, "UI", sopInstance),
		str(0x0002, 0x0010, "UI", explicitVRLittleEndian),
		str(0x0002, 0x0012, "UI", ImplementationClassUID),
		str(0x0002, 0x0013, "SH", ImplementationVersionName),
	}
	metaBody, err := encodeDataSet(nil, meta)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, 128))
	buf.WriteString("DICM")
	groupLength := binary.LittleEndian.AppendUint32(nil, uint32(len(metaBody)))
	head, err := encodeElem(nil, raw(0x0002, 0x0000, "UL", groupLength))
	if err != nil {
		return nil, err
	}
	buf.Write(head)
	buf.Write(metaBody)
	body, err := encodeDataSet(nil, dataSet)
	if err != nil {
		return nil, err
	}
	buf.Write(body)
	return buf.Bytes(), nil
}

const explicitVRLittleEndian = "1.2.840.10008.1.2.1"
