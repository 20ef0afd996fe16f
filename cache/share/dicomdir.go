package share

import (
	"encoding/binary"
	"fmt"
	"strings"

	"teleread/cache/report"
	"teleread/viewer/dataset"
)

// MediaStorageDirectorySOPClass is the SOP Class UID of a DICOMDIR (PS3.4
// Media Storage Directory Storage).
const MediaStorageDirectorySOPClass = "1.2.840.10008.1.3.10"

// dirNode is one directory record and its place in the hierarchy.
type dirNode struct {
	elems    []elem
	children []*dirNode
	offset   uint32 // of its item tag, from the first byte of the file
}

// recordType names the directory record for an instance's SOP class
// (PS3.3 F.5, Table F.4-1).
func recordType(sopClass string) string {
	switch {
	case strings.HasPrefix(sopClass, "1.2.840.10008.5.1.4.1.1.88."):
		if sopClass == "1.2.840.10008.5.1.4.1.1.88.59" {
			return "KEY OBJECT DOC"
		}
		return "SR DOCUMENT"
	case sopClass == "1.2.840.10008.5.1.4.1.1.481.2":
		return "RT DOSE"
	case sopClass == "1.2.840.10008.5.1.4.1.1.481.5", sopClass == "1.2.840.10008.5.1.4.1.1.481.8":
		return "RT PLAN"
	case sopClass == "1.2.840.10008.5.1.4.1.1.481.3":
		return "RT STRUCTURE SET"
	case strings.HasPrefix(sopClass, "1.2.840.10008.5.1.4.1.1.11."):
		return "PRESENTATION"
	}
	return "IMAGE"
}

// keyTags lists, per record type, the record's key attributes copied from the
// instance (PS3.3 F.5); type 1 and 2 keys are written even when empty.
var keyTags = map[string][]dataset.Tag{
	"PATIENT":          {0x00100010, 0x00100020},
	"STUDY":            {0x00080020, 0x00080030, 0x00080050, 0x00081030, 0x0020000D, 0x00200010},
	"SERIES":           {0x00080060, 0x0020000E, 0x00200011},
	"IMAGE":            {0x00200013},
	"SR DOCUMENT":      {0x00080023, 0x00080033, 0x00200013, 0x0040A030, 0x0040A043, 0x0040A491, 0x0040A493},
	"KEY OBJECT DOC":   {0x00080023, 0x00080033, 0x00200013, 0x0040A043},
	"RT DOSE":          {0x00200013, 0x3004000A},
	"RT PLAN":          {0x00200013, 0x300A0002, 0x300A0006, 0x300A0007},
	"RT STRUCTURE SET": {0x00200013, 0x30060002},
	"PRESENTATION":     {0x00080023, 0x00080033, 0x00081115, 0x00200013, 0x00700080, 0x00700081, 0x00700082, 0x00700083, 0x00700084},
}

// keyVR gives the VR of a key written empty because the instance lacks it.
var keyVR = map[dataset.Tag]string{
	0x00100010: "PN", 0x00100020: "LO", 0x00080020: "DA", 0x00080030: "TM", 0x00080050: "SH",
	0x00081030: "LO", 0x0020000D: "UI", 0x00200010: "SH", 0x00080060: "CS", 0x0020000E: "UI",
	0x00200011: "IS", 0x00200013: "IS", 0x00080023: "DA", 0x00080033: "TM", 0x0040A043: "SQ",
	0x0040A491: "CS", 0x0040A493: "CS", 0x3004000A: "CS", 0x300A0002: "SH", 0x30060002: "SH",
	0x00081115: "SQ", 0x300A0006: "DA", 0x300A0007: "TM", 0x00700080: "CS", 0x00700081: "LO", 0x00700082: "DA", 0x00700083: "TM", 0x00700084: "PN",
}

// required holds a stand-in for record keys of type 1 that an instance has
// empty or lacks (a de-identified study has no Study Date or Study ID), as
// media writers do (dcmmkdir --invent).
var required = map[dataset.Tag]string{
	0x00100020: "UNKNOWN", 0x00080020: "19000101", 0x00080030: "000000", 0x00200010: "1",
	0x00200011: "0", 0x00200013: "0", 0x00080060: "OT", 0x300A0002: "PLAN", 0x00080023: "19000101", 0x00080033: "000000",
}

// optionalKey marks record keys written only when the instance has them
// (type 1C keys whose condition follows the instance).
var optionalKey = map[dataset.Tag]bool{0x0040A030: true}

func newRecord(kind string, r Record) *dirNode {
	es := []elem{
		{tag: tagOffsetOfNextDirectoryRecord, vr: "UL", value: make([]byte, 4)},
		{tag: tagRecordInUseFlag, vr: "US", value: []byte{0xFF, 0xFF}},
		{tag: tagOffsetOfLowerLevelDirectory, vr: "UL", value: make([]byte, 4)},
		{tag: tagDirectoryRecordType, vr: "CS", value: []byte(kind)},
	}
	for _, e := range r.keys {
		if e.tag == tagSpecificCharacterSet {
			es = append(es, e)
		}
	}
	for _, t := range keyTags[kind] {
		found := false
		for _, e := range r.keys {
			if e.tag == t && (len(e.value) > 0 || required[t] == "") {
				es = append(es, e)
				found = true
				break
			}
		}
		if !found && t == 0x0040A030 && r.str(0x0040A493) == "VERIFIED" {
			// Verification DateTime sits in the Verifying Observer Sequence of
			// the instance and at the top of the record.
			for _, e := range r.keys {
				if e.tag == 0x0040A073 && len(e.items) > 0 {
					for _, ie := range e.items[0] {
						if ie.tag == t {
							es = append(es, ie)
							found = true
						}
					}
				}
			}
		}
		if !found && optionalKey[t] {
			continue
		}
		if !found {
			e := elem{tag: t, vr: keyVR[t], value: []byte(required[t])}
			if e.vr == "SQ" {
				e.items = [][]elem{}
			}
			es = append(es, e)
		}
	}
	return &dirNode{elems: es}
}

// DICOMDIR builds the Basic Directory (PS3.3 F.3, PS3.10 8) for the records
// of one file set: a PATIENT, STUDY and SERIES record above each instance's
// record, with the record offsets computed from the encoded layout.
func DICOMDIR(records []Record) ([]byte, error) {
	var patients []*dirNode
	byPatient := map[string]*dirNode{}
	byStudy := map[string]*dirNode{}
	bySeries := map[string]*dirNode{}
	for _, r := range records {
		pkey := r.str(0x00100020) + "\x00" + r.str(0x00100010)
		p := byPatient[pkey]
		if p == nil {
			p = newRecord("PATIENT", r)
			byPatient[pkey] = p
			patients = append(patients, p)
		}
		st := byStudy[r.str(0x0020000D)]
		if st == nil {
			st = newRecord("STUDY", r)
			byStudy[r.str(0x0020000D)] = st
			p.children = append(p.children, st)
		}
		se := bySeries[r.str(0x0020000E)]
		if se == nil {
			se = newRecord("SERIES", r)
			bySeries[r.str(0x0020000E)] = se
			st.children = append(st.children, se)
		}
		leaf := newRecord(recordType(r.SOPClassUID), r)
		leaf.elems = append(leaf.elems,
			elem{tag: tagReferencedFileID, vr: "CS", value: []byte(strings.Join(r.FileID, `\`))},
			elem{tag: tagReferencedSOPClassUIDInFile, vr: "UI", value: []byte(r.SOPClassUID)},
			elem{tag: tagReferencedSOPInstanceUIDInFile, vr: "UI", value: []byte(r.SOPInstanceUID)},
			elem{tag: tagReferencedTSUIDInFile, vr: "UI", value: []byte(r.TransferSyntaxUID)},
		)
		se.children = append(se.children, leaf)
	}

	// Records in file order: each record, then its lower level, depth first
	// (the order dcmmkdir and most media writers use).
	var order []*dirNode
	var walk func([]*dirNode)
	walk = func(ns []*dirNode) {
		for _, n := range ns {
			n.elems = sortElems(n.elems)
			order = append(order, n)
			walk(n.children)
		}
	}
	walk(patients)

	sopUID, err := report.NewUID()
	if err != nil {
		return nil, fmt.Errorf("share: dicomdir: %w", err)
	}
	meta, err := metaGroup(MediaStorageDirectorySOPClass, sopUID, explicitVRLittleEndian)
	if err != nil {
		return nil, err
	}
	le := encoder{}
	head := func(first, last uint32) []elem {
		return []elem{
			{tag: 0x00041130, vr: "CS", value: []byte("TELEREAD")}, // File-set ID
			{tag: 0x00041200, vr: "UL", value: binary.LittleEndian.AppendUint32(nil, first)},
			{tag: 0x00041202, vr: "UL", value: binary.LittleEndian.AppendUint32(nil, last)},
			{tag: 0x00041212, vr: "US", value: []byte{0, 0}}, // File-set Consistency Flag: no known inconsistencies
		}
	}
	prefix, err := le.dataSet(nil, head(0, 0))
	if err != nil {
		return nil, err
	}
	// Offsets are fixed-width values, so the layout does not depend on them.
	pos := uint64(len(meta)) + uint64(len(prefix)) + 12 // sequence header
	for _, n := range order {
		body, err := le.dataSet(nil, n.elems)
		if err != nil {
			return nil, err
		}
		if pos > 0xFFFFFFFF {
			return nil, fmt.Errorf("share: dicomdir: %w", ErrValueTooLong)
		}
		n.offset = uint32(pos)
		pos += 8 + uint64(len(body))
	}
	setUL := func(n *dirNode, t dataset.Tag, v uint32) {
		for i := range n.elems {
			if n.elems[i].tag == t {
				n.elems[i].value = binary.LittleEndian.AppendUint32(nil, v)
			}
		}
	}
	var link func([]*dirNode)
	link = func(ns []*dirNode) {
		for i, n := range ns {
			if i+1 < len(ns) {
				setUL(n, tagOffsetOfNextDirectoryRecord, ns[i+1].offset)
			}
			if len(n.children) > 0 {
				setUL(n, tagOffsetOfLowerLevelDirectory, n.children[0].offset)
			}
			link(n.children)
		}
	}
	link(patients)
	var first, last uint32
	if len(patients) > 0 {
		first, last = patients[0].offset, patients[len(patients)-1].offset
	}
	items := make([][]elem, len(order))
	for i, n := range order {
		items[i] = n.elems
	}
	es := append(head(first, last), elem{tag: tagDirectoryRecordSequence, vr: "SQ", items: items})
	body, err := le.dataSet(nil, es)
	if err != nil {
		return nil, err
	}
	return append(meta, body...), nil
}
