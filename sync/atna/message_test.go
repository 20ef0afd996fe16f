package atna

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"teleread/cache"
)

// wantEvent is how PS3.15 A.5.3 (and PS3.16 CID 400/403) reports each audit
// action: written down from the standard, not from Message.
type wantEvent struct {
	action     string
	eventID    string
	actionCode string
	study      bool   // a Study participant object is expected
	typeCode   string // EventTypeCode, where one is expected
}

var wantEvents = []wantEvent{
	{cache.AuditImport, "110107", "C", true, ""},
	{cache.AuditSyncRetrieve, "110104", "C", true, ""},
	{cache.AuditOpen, "110103", "R", true, ""},
	{cache.AuditRender, "110106", "R", true, ""},
	{cache.AuditExport, "110106", "R", true, ""},
	{cache.AuditExportDeid, "110106", "R", true, ""},
	{cache.AuditReportSign, "110103", "C", true, ""},
	{cache.AuditReportAddendum, "110103", "C", true, ""},
	{cache.AuditReportConsult, "110103", "C", true, ""},
	{cache.AuditEvict, "110103", "D", true, ""},
	{cache.AuditPurge, "110103", "D", true, ""},
	{cache.AuditSignIn, "110114", "E", false, "110122"},
	{"some-future-action", "110100", "E", true, ""},
}

// child returns n's first child named name, or nil.
func (n *xmlNode) child(name string) *xmlNode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *xmlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// checkEvent checks one message (XML) against what the standard says of its
// action, and against the schema.
func checkEvent(t *testing.T, msg []byte, want wantEvent, study string) {
	t.Helper()
	n, err := parseAudit(msg)
	if err != nil {
		t.Fatalf("%s: not XML: %v\n%s", want.action, err, msg)
	}
	if n.XMLName.Local != "AuditMessage" {
		t.Fatalf("%s: root %s", want.action, n.XMLName.Local)
	}
	for _, p := range validateAudit(n) {
		t.Errorf("%s: %s", want.action, p)
	}
	ei := n.child("EventIdentification")
	if ei == nil || ei.child("EventID") == nil {
		t.Fatalf("%s: no EventIdentification/EventID", want.action)
	}
	id := ei.child("EventID")
	if id.attr("csd-code") != want.eventID || id.attr("codeSystemName") != "DCM" || ei.attr("EventActionCode") != want.actionCode {
		t.Errorf("%s: EventID %s (%s), action %s; want %s (DCM), %s", want.action, id.attr("csd-code"), id.attr("codeSystemName"),
			ei.attr("EventActionCode"), want.eventID, want.actionCode)
	}
	if ei.attr("EventOutcomeIndicator") != "0" {
		t.Errorf("%s: outcome %s, want 0", want.action, ei.attr("EventOutcomeIndicator"))
	}
	if want.typeCode != "" {
		if tc := ei.child("EventTypeCode"); tc == nil || tc.attr("csd-code") != want.typeCode {
			t.Errorf("%s: EventTypeCode %v, want %s", want.action, tc, want.typeCode)
		}
	}
	requestor := false
	for _, c := range n.Nodes {
		if c.XMLName.Local == "ActiveParticipant" && c.attr("UserIsRequestor") == "true" {
			requestor = true
		}
	}
	if !requestor {
		t.Errorf("%s: no ActiveParticipant is the requestor", want.action)
	}
	po := n.child("ParticipantObjectIdentification")
	if !want.study {
		if po != nil {
			t.Errorf("%s: unexpected participant object %s", want.action, po.attr("ParticipantObjectID"))
		}
		return
	}
	if po == nil {
		t.Fatalf("%s: no ParticipantObjectIdentification", want.action)
	}
	it := po.child("ParticipantObjectIDTypeCode")
	if po.attr("ParticipantObjectID") != study || it == nil || it.attr("csd-code") != "110180" ||
		po.attr("ParticipantObjectTypeCode") != "2" || po.attr("ParticipantObjectTypeCodeRole") != "3" {
		t.Errorf("%s: participant object %s type %s role %s id-type %v; want the Study Instance UID %s (110180), 2, 3",
			want.action, po.attr("ParticipantObjectID"), po.attr("ParticipantObjectTypeCode"), po.attr("ParticipantObjectTypeCodeRole"), it, study)
	}
	if po.child("ParticipantObjectName") != nil {
		t.Errorf("%s: a ParticipantObjectName is sent", want.action)
	}
}

// TestMessage: every audit action becomes an AuditMessage that follows the
// A.5.1 schema and carries the A.5.3 EventID and action code, the study by
// its UID, and the detail as a base64 value pair.
func TestMessage(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC)
	const study = "1.2.826.0.1.3680043.8.498.12345"
	for _, want := range wantEvents {
		t.Run(want.action, func(t *testing.T) {
			ev := cache.AuditEvent{Time: at, User: "reader<&>\"", Action: want.action, Detail: "3 instances & <more>"}
			if want.study {
				ev.Study = study
			}
			msg, err := Message(ev, Source{Host: "ws-1", SiteID: "Reading Group"})
			if err != nil {
				t.Fatal(err)
			}
			checkEvent(t, msg, want, study)
			n, _ := parseAudit(msg)
			if got := n.child("EventIdentification").attr("EventDateTime"); got != "2026-12-05T01:02:03.456789Z" {
				t.Errorf("EventDateTime %s", got)
			}
			if n.child("ActiveParticipant").attr("UserID") != ev.User {
				t.Errorf("the user's name did not survive XML escaping: %s", msg)
			}
			if want.study {
				d := n.child("ParticipantObjectIdentification").child("ParticipantObjectDetail")
				if d == nil {
					t.Fatal("no detail")
				}
				if v, _ := base64.StdEncoding.DecodeString(d.attr("value")); string(v) != ev.Detail {
					t.Errorf("detail %q, want %q", v, ev.Detail)
				}
			}
		})
	}
}

// TestValidateAuditCatches: the schema check itself finds what breaks a
// message: missing required parts, children out of order, values outside
// their enumerations.
func TestValidateAuditCatches(t *testing.T) {
	good, err := Message(cache.AuditEvent{Time: time.Now(), User: "u", Action: cache.AuditOpen, Study: "1.2.3"}, Source{Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := parseAudit(good)
	if p := validateAudit(n); len(p) != 0 {
		t.Fatalf("valid message refused: %v", p)
	}
	tests := []struct{ name, from, to string }{
		{"no EventID", `<EventID csd-code="110103" codeSystemName="DCM" originalText="DICOM Instances Accessed"></EventID>`, ""},
		{"bad action code", `EventActionCode="R"`, `EventActionCode="X"`},
		{"no date", `EventDateTime="`, `Other="`},
		{"local time", `Z" EventOutcomeIndicator`, `" EventOutcomeIndicator`},
		{"no source ID", `AuditSourceID="h"`, `AuditSourceIDx="h"`},
		{"requestor not boolean", `UserIsRequestor="true"`, `UserIsRequestor="yes"`},
		{"source after objects", `<AuditSourceIdentification AuditSourceID="h"><AuditSourceTypeCode csd-code="1"></AuditSourceTypeCode></AuditSourceIdentification>`, ""},
		{"role out of range", `ParticipantObjectTypeCodeRole="3"`, `ParticipantObjectTypeCodeRole="27"`},
		{"coded value without system", `codeSystemName="DCM" originalText="Study Instance UID"`, `originalText="Study Instance UID"`},
	}
	for _, tt := range tests {
		bad := strings.Replace(string(good), tt.from, tt.to, 1)
		if bad == string(good) {
			t.Fatalf("%s: %q not in %s", tt.name, tt.from, good)
		}
		if tt.name == "source after objects" {
			bad = strings.Replace(bad, "</AuditMessage>", tt.from+"</AuditMessage>", 1)
		}
		n, err := parseAudit([]byte(bad))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p := validateAudit(n); len(p) == 0 {
			t.Errorf("%s: not caught: %s", tt.name, bad)
		}
	}
}

// TestFrame: an RFC 5425 frame is the octet count of the RFC 5424 message
// that follows it; the header has the IHE ITI-20 priority and MSGID.
func TestFrame(t *testing.T) {
	msg := []byte(`<?xml version="1.0"?><AuditMessage>é</AuditMessage>`)
	f := Frame(msg, time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC), "ws-1")
	sp := bytes.IndexByte(f, ' ')
	n, err := strconv.Atoi(string(f[:sp]))
	if err != nil || n != len(f)-sp-1 {
		t.Fatalf("frame length %q, message %d octets", f[:sp], len(f)-sp-1)
	}
	want := "<85>1 2026-12-05T01:02:03.000000Z ws-1 teleread - IHE+RFC-3881 - \xEF\xBB\xBF"
	if got := string(f[sp+1:]); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, string(msg)) {
		t.Errorf("message %q, want %q then the XML", got, want)
	}
}
