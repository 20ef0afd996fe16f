package dataset

import "strings"

// Text, TextValues and ElementText are the one way text that a person reads
// (names, descriptions) leaves this package: decoded per the data set's
// Specific Character Set into UTF-8. String and Strings return the stored
// bytes, for UIDs, codes and numbers.

// CharacterSet returns the Specific Character Set in force in d: its own, or
// for a sequence item without one, the enclosing data set's (PS3.5 7.5.3).
func (d *DataSet) CharacterSet() CharacterSet {
	for ds := d; ds != nil; ds = ds.parent {
		if e := ds.Get(SpecificCharacterSet); e != nil {
			return ParseCharacterSet(string(e.Value))
		}
	}
	return ParseCharacterSet("")
}

// Text returns the value of t as UTF-8 (see CharacterSet.Decode), each value
// trimmed as String trims it and, for PN, without trailing empty component
// groups; multiple values stay separated by '\'. "" when absent.
func (d *DataSet) Text(t Tag) string {
	e := d.Get(t)
	if e == nil {
		return ""
	}
	return strings.Join(d.elementValues(e), `\`)
}

// TextValues returns the values of t as UTF-8, trimmed as Text trims them.
func (d *DataSet) TextValues(t Tag) []string {
	e := d.Get(t)
	if e == nil || len(e.Value) == 0 {
		return nil
	}
	return d.elementValues(e)
}

// ElementText returns the value of e, an element of d, as Text would.
func (d *DataSet) ElementText(e *Element) string {
	return strings.Join(d.elementValues(e), `\`)
}

func (d *DataSet) elementValues(e *Element) []string {
	vr := e.VR
	if vr == "UN" || vr == "" {
		// Some writers send known text attributes as UN; the dictionary
		// says what they are.
		vr = dictVR(e.Tag)
	}
	var s string
	if plain(e.Value) {
		s = string(e.Value) // every character set reads ASCII alike
	} else {
		s = d.CharacterSet().Decode(vr, e.Value)
	}
	var vals []string
	if singleValued(vr) {
		vals = []string{s}
	} else {
		// Splitting after decoding: a '\' byte inside a GBK or ISO 2022
		// double-byte character is no delimiter, and no decoded character
		// but the delimiter is U+005C.
		vals = strings.Split(s, `\`)
	}
	for i, v := range vals {
		v = trimValue(v, vr)
		if vr == "PN" {
			v = strings.TrimRight(v, "= ")
		}
		vals[i] = v
	}
	return vals
}

// adoptItems links every sequence item below d to the data set that holds
// it, so that items inherit its Specific Character Set.
func (d *DataSet) adoptItems() {
	for _, e := range d.elements {
		for _, it := range e.Items {
			if it != nil {
				it.parent = d
				it.adoptItems()
			}
		}
	}
}
