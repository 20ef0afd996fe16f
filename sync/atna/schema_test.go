package atna

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The DICOM audit message schema (PS3.15 A.5.1, Relax NG), transcribed from
// the standard for the elements this package may write and their parents:
// the attributes each element allows (required or not, enumerated values,
// data type) and the order and count of its children. validateAudit checks a
// message against it, element by element.

type attrSpec struct {
	required bool
	enum     []string
	kind     string // "", "dateTime", "boolean", "base64"
}

type elemSpec struct {
	attrs    map[string]attrSpec
	children string // regular expression over the child names, space-separated
	text     string // "", "boolean", "token"
}

var codedAttrs = map[string]attrSpec{
	"csd-code":       {required: true},
	"codeSystemName": {required: true},
	"displayName":    {},
	"originalText":   {required: true},
}

func seq(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

var auditSchema = map[string]elemSpec{
	"AuditMessage": {children: `^EventIdentification( ActiveParticipant)+ AuditSourceIdentification( ParticipantObjectIdentification)*$`},
	"EventIdentification": {
		attrs: map[string]attrSpec{
			"EventActionCode":       {enum: []string{"C", "R", "U", "D", "E"}},
			"EventDateTime":         {required: true, kind: "dateTime"},
			"EventOutcomeIndicator": {required: true, enum: []string{"0", "4", "8", "12"}},
		},
		children: `^EventID( EventTypeCode)*( EventOutcomeDescription)?$`,
	},
	"EventID":       {attrs: codedAttrs},
	"EventTypeCode": {attrs: codedAttrs},
	"ActiveParticipant": {
		attrs: map[string]attrSpec{
			"UserID":                     {required: true},
			"AlternativeUserID":          {},
			"UserName":                   {},
			"UserIsRequestor":            {required: true, kind: "boolean"},
			"NetworkAccessPointID":       {},
			"NetworkAccessPointTypeCode": {enum: seq(5)},
		},
		children: `^(RoleIDCode ?)*( ?MediaIdentifier)?$`,
	},
	"RoleIDCode": {attrs: codedAttrs},
	"AuditSourceIdentification": {
		attrs:    map[string]attrSpec{"AuditEnterpriseSiteID": {}, "AuditSourceID": {required: true}},
		children: `^(AuditSourceTypeCode ?)*$`,
	},
	// A digit of the schema's own list, or a code with its code system.
	"AuditSourceTypeCode": {attrs: map[string]attrSpec{"csd-code": {required: true}, "codeSystemName": {}, "displayName": {}, "originalText": {}}},
	"ParticipantObjectIdentification": {
		attrs: map[string]attrSpec{
			"ParticipantObjectID":            {required: true},
			"ParticipantObjectTypeCode":      {enum: seq(4)},
			"ParticipantObjectTypeCodeRole":  {enum: seq(26)},
			"ParticipantObjectDataLifeCycle": {enum: seq(15)},
			"ParticipantObjectSensitivity":   {},
		},
		children: `^ParticipantObjectIDTypeCode( ParticipantObjectName| ParticipantObjectQuery)?( ParticipantObjectDetail)*( ParticipantObjectDescription)*$`,
	},
	"ParticipantObjectIDTypeCode": {attrs: codedAttrs},
	"ParticipantObjectDetail":     {attrs: map[string]attrSpec{"type": {required: true}, "value": {required: true, kind: "base64"}}},
	"ParticipantObjectDescription": {
		children: `^(MPPS ?)*(Accession ?)*(SOPClass ?)*(ParticipantObjectContainsStudy ?)?(Encrypted ?)?(Anonymized)?$`,
	},
	"Anonymized": {text: "boolean"},
	"Encrypted":  {text: "boolean"},
}

// xmlNode is any element, with its attributes and children in order.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

// parseAudit parses an audit message into its element tree.
func parseAudit(b []byte) (*xmlNode, error) {
	var n xmlNode
	if err := xml.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// validateAudit checks an element tree against auditSchema and returns every
// violation found.
func validateAudit(n *xmlNode) []string {
	var probs []string
	var walk func(n *xmlNode, path string)
	walk = func(n *xmlNode, path string) {
		name := n.XMLName.Local
		path += "/" + name
		spec, ok := auditSchema[name]
		if !ok {
			probs = append(probs, path+": element not in the schema subset")
			return
		}
		if n.XMLName.Space != "" {
			probs = append(probs, fmt.Sprintf("%s: namespace %q, the schema has none", path, n.XMLName.Space))
		}
		seen := map[string]bool{}
		for _, a := range n.Attrs {
			as, ok := spec.attrs[a.Name.Local]
			if !ok || a.Name.Space != "" {
				probs = append(probs, fmt.Sprintf("%s: attribute %s not allowed", path, a.Name.Local))
				continue
			}
			seen[a.Name.Local] = true
			if len(as.enum) > 0 && !slices.Contains(as.enum, a.Value) {
				probs = append(probs, fmt.Sprintf("%s@%s: %q not one of %v", path, a.Name.Local, a.Value, as.enum))
			}
			if p := checkKind(as.kind, a.Value); p != "" {
				probs = append(probs, fmt.Sprintf("%s@%s: %s", path, a.Name.Local, p))
			}
			if strings.TrimSpace(a.Value) == "" {
				probs = append(probs, fmt.Sprintf("%s@%s: empty", path, a.Name.Local))
			}
		}
		for an, as := range spec.attrs {
			if as.required && !seen[an] {
				probs = append(probs, fmt.Sprintf("%s: required attribute %s missing", path, an))
			}
		}
		var names []string
		for _, c := range n.Nodes {
			names = append(names, c.XMLName.Local)
		}
		if !regexp.MustCompile(childPattern(spec.children)).MatchString(strings.Join(names, " ")) {
			probs = append(probs, fmt.Sprintf("%s: children %v do not match %s", path, names, spec.children))
		}
		if spec.text != "" {
			if p := checkKind(spec.text, strings.TrimSpace(n.Text)); p != "" {
				probs = append(probs, path+": "+p)
			}
		} else if strings.TrimSpace(n.Text) != "" {
			probs = append(probs, path+": text where the schema has none")
		}
		for i := range n.Nodes {
			walk(&n.Nodes[i], path)
		}
	}
	walk(n, "")
	return probs
}

// childPattern is the children pattern, or "no children" when empty.
func childPattern(p string) string {
	if p == "" {
		return `^$`
	}
	return p
}

func checkKind(kind, v string) string {
	switch kind {
	case "dateTime":
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return fmt.Sprintf("%q is not an xsd:dateTime with a zone", v)
		}
	case "boolean":
		if !slices.Contains([]string{"true", "false", "1", "0"}, v) {
			return fmt.Sprintf("%q is not an xsd:boolean", v)
		}
	case "base64":
		if _, err := base64.StdEncoding.DecodeString(v); err != nil {
			return fmt.Sprintf("%q is not xsd:base64Binary", v)
		}
	}
	return ""
}
