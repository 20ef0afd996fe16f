// Package atna sends the cache's audit trail to a hospital's audit record
// repository as IHE ATNA audit messages: each event of HOME/audit.log becomes
// a DICOM PS3.15 A.5 AuditMessage (XML) in an RFC 5424 syslog message, sent
// over TLS with RFC 5425 octet-counting framing. The local audit.log stays the
// record: the forwarder reads it from where it stopped (see
// cache.AuditForward), so an event is never lost when the repository is down
// and nothing that accesses patient data ever waits for the network.
package atna

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"time"

	"teleread/cache"
)

// Source says who reports the events (AuditSourceIdentification and the
// application's ActiveParticipant).
type Source struct {
	// ID is the AuditSourceID, by default the host name.
	ID string
	// SiteID is the AuditEnterpriseSiteID (the hospital or reading group);
	// empty leaves it out.
	SiteID string
	// Host is the NetworkAccessPointID of this machine (its name).
	Host string
}

// code is the schema's CodedValueType.
type code struct {
	Code   string `xml:"csd-code,attr"`
	System string `xml:"codeSystemName,attr"`
	Text   string `xml:"originalText,attr"`
}

func dcm(c, text string) code { return code{Code: c, System: "DCM", Text: text} }

// The elements of the A.5.1 schema this package writes, in schema order.
type auditMessage struct {
	XMLName xml.Name            `xml:"AuditMessage"`
	Event   eventIdentification `xml:"EventIdentification"`
	Active  []activeParticipant `xml:"ActiveParticipant"`
	Source  auditSource         `xml:"AuditSourceIdentification"`
	Objects []participantObject `xml:"ParticipantObjectIdentification"`
}

type eventIdentification struct {
	ActionCode string `xml:"EventActionCode,attr"`
	DateTime   string `xml:"EventDateTime,attr"`
	Outcome    string `xml:"EventOutcomeIndicator,attr"`
	EventID    code   `xml:"EventID"`
	TypeCodes  []code `xml:"EventTypeCode"`
}

type activeParticipant struct {
	UserID          string `xml:"UserID,attr"`
	UserIsRequestor bool   `xml:"UserIsRequestor,attr"`
	NetworkID       string `xml:"NetworkAccessPointID,attr,omitempty"`
	NetworkType     string `xml:"NetworkAccessPointTypeCode,attr,omitempty"`
	Roles           []code `xml:"RoleIDCode"`
}

type auditSource struct {
	SiteID   string       `xml:"AuditEnterpriseSiteID,attr,omitempty"`
	SourceID string       `xml:"AuditSourceID,attr"`
	Types    []sourceType `xml:"AuditSourceTypeCode"`
}

// sourceType is an AuditSourceTypeCode from the schema's own digits, which
// need no code system.
type sourceType struct {
	Code string `xml:"csd-code,attr"`
}

type participantObject struct {
	ID          string             `xml:"ParticipantObjectID,attr"`
	TypeCode    string             `xml:"ParticipantObjectTypeCode,attr"`
	Role        string             `xml:"ParticipantObjectTypeCodeRole,attr"`
	LifeCycle   string             `xml:"ParticipantObjectDataLifeCycle,attr,omitempty"`
	IDType      code               `xml:"ParticipantObjectIDTypeCode"`
	Details     []valuePair        `xml:"ParticipantObjectDetail"`
	Description *objectDescription `xml:"ParticipantObjectDescription"`
}

type valuePair struct {
	Type  string `xml:"type,attr"`
	Value string `xml:"value,attr"` // base64, as the schema wants
}

type objectDescription struct {
	Anonymized *bool `xml:"Anonymized"`
}

// Codes of PS3.16 CID 400-405 and PS3.15 A.5.3 used here.
var (
	roleSource      = dcm("110153", "Source Role ID")
	roleDestination = dcm("110152", "Destination Role ID")
	studyUIDType    = dcm("110180", "Study Instance UID")
)

// eventKind is how one audit action is reported.
type eventKind struct {
	id        code
	action    string // EventActionCode: C, R, U, D or E
	types     []code // EventTypeCode
	appRole   *code  // the application's RoleIDCode, where A.5.3 gives one
	lifeCycle string // ParticipantObjectDataLifeCycle of the study
}

// eventKinds maps the audit trail's actions to A.5.3 events. A study read on
// screen is Instances Accessed (R); a study written out of the cache (an
// image rendered to a file, an export) is Export; one brought in is Import
// (files) or Instances Transferred (retrieved from the archive); a report,
// addendum or consultation note creates an SR in the study (Instances
// Accessed, C); eviction and purge delete it (D).
var eventKinds = map[string]eventKind{
	cache.AuditImport:         {id: dcm("110107", "Import"), action: "C", appRole: &roleDestination, lifeCycle: "2"},
	cache.AuditSyncRetrieve:   {id: dcm("110104", "DICOM Instances Transferred"), action: "C", appRole: &roleDestination, lifeCycle: "2"},
	cache.AuditOpen:           {id: dcm("110103", "DICOM Instances Accessed"), action: "R", lifeCycle: "6"},
	cache.AuditRender:         {id: dcm("110106", "Export"), action: "R", appRole: &roleSource, lifeCycle: "10"},
	cache.AuditExport:         {id: dcm("110106", "Export"), action: "R", appRole: &roleSource, lifeCycle: "10"},
	cache.AuditExportDeid:     {id: dcm("110106", "Export"), action: "R", appRole: &roleSource, lifeCycle: "7"},
	cache.AuditReportSign:     {id: dcm("110103", "DICOM Instances Accessed"), action: "C", lifeCycle: "1"},
	cache.AuditReportAddendum: {id: dcm("110103", "DICOM Instances Accessed"), action: "C", lifeCycle: "3"},
	cache.AuditReportConsult:  {id: dcm("110103", "DICOM Instances Accessed"), action: "C", lifeCycle: "1"},
	cache.AuditEvict:          {id: dcm("110103", "DICOM Instances Accessed"), action: "D", lifeCycle: "14"},
	cache.AuditPurge:          {id: dcm("110103", "DICOM Instances Accessed"), action: "D", lifeCycle: "15"},
	cache.AuditSignIn:         {id: dcm("110114", "User Authentication"), action: "E", types: []code{dcm("110122", "Login")}},
}

// applicationActivity reports an action this package does not know yet.
var applicationActivity = eventKind{id: dcm("110100", "Application Activity"), action: "E"}

// EventCode returns the EventID code and EventActionCode an audit action is
// reported with.
func EventCode(action string) (eventID, actionCode string) {
	k, ok := eventKinds[action]
	if !ok {
		k = applicationActivity
	}
	return k.id.Code, k.action
}

// Message returns the DICOM PS3.15 A.5 AuditMessage for one audit event. It
// holds what the audit trail holds: the OS user, the study by its UID and the
// event's detail (counts, destinations), never a patient's name or ID.
func Message(ev cache.AuditEvent, src Source) ([]byte, error) {
	k, ok := eventKinds[ev.Action]
	if !ok {
		k = applicationActivity
	}
	m := auditMessage{
		Event: eventIdentification{
			ActionCode: k.action,
			DateTime:   ev.Time.UTC().Format("2006-01-02T15:04:05.000000Z"),
			Outcome:    "0",
			EventID:    k.id,
			TypeCodes:  k.types,
		},
		Source: auditSource{SiteID: src.SiteID, SourceID: src.ID, Types: []sourceType{{Code: "1"}}},
	}
	if m.Source.SourceID == "" {
		m.Source.SourceID = src.Host
	}
	if m.Source.SourceID == "" {
		m.Source.SourceID = "teleread"
	}
	user := ev.User
	if user == "" {
		user = "unknown"
	}
	person := activeParticipant{UserID: user, UserIsRequestor: true}
	app := activeParticipant{UserID: "teleread", UserIsRequestor: false}
	if src.Host != "" {
		person.NetworkID, person.NetworkType = src.Host, "1"
		app.NetworkID, app.NetworkType = src.Host, "1"
	}
	if k.appRole != nil {
		app.Roles = []code{*k.appRole}
	}
	m.Active = []activeParticipant{person, app}
	if ev.Study != "" {
		obj := participantObject{ID: ev.Study, TypeCode: "2", Role: "3", LifeCycle: k.lifeCycle, IDType: studyUIDType}
		if ev.Detail != "" {
			obj.Details = []valuePair{{Type: "Detail", Value: base64.StdEncoding.EncodeToString([]byte(ev.Detail))}}
		}
		if ev.Action == cache.AuditExportDeid {
			yes := true
			obj.Description = &objectDescription{Anonymized: &yes}
		}
		m.Objects = []participantObject{obj}
	}
	out, err := xml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("atna: message: %w", err)
	}
	return append([]byte(xml.Header[:len(xml.Header)-1]), out...), nil
}

// Frame returns one RFC 5424 syslog message carrying msg, with RFC 5425's
// octet-counting frame (its length, a space, the message). Facility 10
// (security/authorization), severity 5 (notice), MSGID IHE+RFC-3881, as
// IHE ITI-20 asks; the XML follows a UTF-8 byte order mark, as RFC 5424
// wants of UTF-8 text.
func Frame(msg []byte, at time.Time, host string) []byte {
	if host == "" {
		host = "-"
	}
	head := fmt.Sprintf("<%d>1 %s %s teleread - IHE+RFC-3881 - \xEF\xBB\xBF", 10*8+5, at.UTC().Format("2006-01-02T15:04:05.000000Z"), host)
	n := len(head) + len(msg)
	out := make([]byte, 0, n+12)
	out = fmt.Appendf(out, "%d ", n)
	out = append(out, head...)
	return append(out, msg...)
}
