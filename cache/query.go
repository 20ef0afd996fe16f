package cache

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Study is one cached study as `teleread studies --json` prints it (the JSON
// keys are DICOM keywords).
type Study struct {
	StudyInstanceUID       string   `json:"StudyInstanceUID"`
	PatientID              string   `json:"PatientID"`
	IssuerOfPatientID      string   `json:"IssuerOfPatientID,omitempty"`
	PatientName            string   `json:"PatientName"`
	PatientBirthDate       string   `json:"PatientBirthDate,omitempty"`
	PatientSex             string   `json:"PatientSex,omitempty"`
	StudyDate              string   `json:"StudyDate"`
	StudyTime              string   `json:"StudyTime,omitempty"`
	AccessionNumber        string   `json:"AccessionNumber,omitempty"`
	StudyDescription       string   `json:"StudyDescription"`
	ReferringPhysicianName string   `json:"ReferringPhysicianName,omitempty"`
	ModalitiesInStudy      []string `json:"ModalitiesInStudy"`
	NumberOfSeries         int      `json:"NumberOfSeries"`
	NumberOfInstances      int      `json:"NumberOfInstances"`
	Source                 string   `json:"Source,omitempty"`
}

const studySelect = `SELECT s.study_uid, p.id, p.identity, p.patient_id, p.issuer, p.name, p.birth_date, p.sex, s.study_date, s.study_time,
	s.accession, s.description, s.referring, s.source,
	COALESCE((SELECT GROUP_CONCAT(DISTINCT se.modality) FROM series se WHERE se.study_uid = s.study_uid), ''),
	(SELECT COUNT(*) FROM series se WHERE se.study_uid = s.study_uid),
	(SELECT COUNT(*) FROM instances i JOIN series se ON i.series_uid = se.series_uid WHERE se.study_uid = s.study_uid)
	FROM studies s JOIN patients p ON p.id = s.patient_pk`

// scanStudy reads one row of studySelect and opens its sealed values; a value
// that does not open is an error naming the row (*SealError).
func (c *Cache) scanStudy(sc interface{ Scan(...any) error }) (Study, error) {
	var s Study
	var mods string
	var patientPK int64
	var identity []byte
	var pid, issuer, name, birth, sex, acc, desc, referring raw
	err := sc.Scan(&s.StudyInstanceUID, &patientPK, &identity, &pid, &issuer, &name, &birth, &sex, &s.StudyDate,
		&s.StudyTime, &acc, &desc, &referring, &s.Source, &mods, &s.NumberOfSeries, &s.NumberOfInstances)
	if err != nil {
		return s, err
	}
	p := c.opener("patients", identityRow(identity), fmt.Sprintf("id %d (patient of study %s)", patientPK, s.StudyInstanceUID))
	p.text("patient_id", pid.v, &s.PatientID)
	p.text("issuer", issuer.v, &s.IssuerOfPatientID)
	p.text("name", name.v, &s.PatientName)
	p.text("birth_date", birth.v, &s.PatientBirthDate)
	p.text("sex", sex.v, &s.PatientSex)
	if p.err != nil {
		return s, p.err
	}
	st := c.opener("studies", s.StudyInstanceUID)
	st.text("accession", acc.v, &s.AccessionNumber)
	st.text("description", desc.v, &s.StudyDescription)
	st.text("referring", referring.v, &s.ReferringPhysicianName)
	if st.err != nil {
		return s, st.err
	}
	s.ModalitiesInStudy = []string{}
	for _, m := range strings.Split(mods, ",") {
		if m != "" {
			s.ModalitiesInStudy = append(s.ModalitiesInStudy, m)
		}
	}
	sort.Strings(s.ModalitiesInStudy)
	return s, nil
}

// Studies lists the cached studies, newest study date first.
func (c *Cache) Studies() ([]Study, error) {
	return c.queryStudies(`ORDER BY s.study_date DESC, s.study_time DESC, s.study_uid`)
}

func (c *Cache) queryStudies(where string, args ...any) ([]Study, error) {
	rows, err := c.db.Query(studySelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("cache: studies: %w", err)
	}
	defer rows.Close()
	out := []Study{}
	for rows.Next() {
		s, err := c.scanStudy(rows)
		if err != nil {
			return nil, fmt.Errorf("cache: studies: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: studies: %w", err)
	}
	return out, nil
}

// SamePatient reports whether two studies are of one patient: the same
// non-empty Patient ID, from the same issuer where both name one (many archives
// send no issuer, and caches written before did not record it).
func SamePatient(a, b Study) bool {
	if a.PatientID == "" || a.PatientID != b.PatientID {
		return false
	}
	return a.IssuerOfPatientID == "" || b.IssuerOfPatientID == "" || a.IssuerOfPatientID == b.IssuerOfPatientID
}

// StudiesOfPatient lists the other cached studies of st's patient
// (SamePatient), newest first. They are found by the keyed hash of the Patient
// ID, so only that patient's rows are opened.
func (c *Cache) StudiesOfPatient(st Study) ([]Study, error) {
	if st.PatientID == "" {
		return nil, nil
	}
	cands, err := c.queryStudies(`WHERE p.patient_key = ? AND s.study_uid != ? ORDER BY s.study_date DESC, s.study_time DESC, s.study_uid`,
		c.patientKey(st.PatientID), st.StudyInstanceUID)
	if err != nil {
		return nil, fmt.Errorf("cache: studies of the patient of %s: %w", st.StudyInstanceUID, err)
	}
	var out []Study
	for _, o := range cands {
		if SamePatient(st, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// StudyByUID returns one cached study, or ErrNotFound.
func (c *Cache) StudyByUID(uid string) (Study, error) {
	s, err := c.scanStudy(c.db.QueryRow(studySelect+` WHERE s.study_uid = ?`, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("cache: study %s: %w", uid, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("cache: study %s: %w", uid, err)
	}
	return s, nil
}

// Series is one series of a cached study.
type Series struct {
	SeriesInstanceUID string
	StudyInstanceUID  string
	Modality          string
	SeriesNumber      int
	Description       string
	BodyPart          string
	NumberOfInstances int
}

// SeriesOf lists a study's series by series number.
func (c *Cache) SeriesOf(studyUID string) ([]Series, error) {
	rows, err := c.db.Query(`SELECT se.series_uid, se.study_uid, se.modality, COALESCE(se.series_number, 0), se.description, se.body_part,
		(SELECT COUNT(*) FROM instances i WHERE i.series_uid = se.series_uid)
		FROM series se WHERE se.study_uid = ? ORDER BY COALESCE(se.series_number, 0), se.series_uid`, studyUID)
	if err != nil {
		return nil, fmt.Errorf("cache: series of %s: %w", studyUID, err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		var s Series
		var desc raw
		if err := rows.Scan(&s.SeriesInstanceUID, &s.StudyInstanceUID, &s.Modality, &s.SeriesNumber, &desc, &s.BodyPart, &s.NumberOfInstances); err != nil {
			return nil, fmt.Errorf("cache: series of %s: %w", studyUID, err)
		}
		o := c.opener("series", s.SeriesInstanceUID)
		if o.text("description", desc.v, &s.Description); o.err != nil {
			return nil, fmt.Errorf("cache: series of %s: %w", studyUID, o.err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Instance is one stored instance.
type Instance struct {
	SOPInstanceUID    string
	SeriesInstanceUID string
	SOPClassUID       string
	InstanceNumber    int
	Rows, Columns     int
	Frames            int
	TransferSyntax    string
	Path              string // absolute
	Size              int64
	Checksum          string // see checksum.go
}

const instanceSelect = `SELECT sop_uid, series_uid, sop_class, COALESCE(instance_number, 0), COALESCE(rows, 0), COALESCE(columns, 0), frames,
	transfer_syntax, path, size, checksum FROM instances`

func (c *Cache) queryInstances(where string, args ...any) ([]Instance, error) {
	rows, err := c.db.Query(instanceSelect+" "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Instance
	for rows.Next() {
		var in Instance
		if err := rows.Scan(&in.SOPInstanceUID, &in.SeriesInstanceUID, &in.SOPClassUID, &in.InstanceNumber, &in.Rows, &in.Columns,
			&in.Frames, &in.TransferSyntax, &in.Path, &in.Size, &in.Checksum); err != nil {
			return nil, err
		}
		in.Path = c.FilePath(in.Path)
		out = append(out, in)
	}
	return out, rows.Err()
}

// InstancesOf lists a series' instances in stack order (CompareStackOrder),
// the order the viewer stacks them in.
func (c *Cache) InstancesOf(seriesUID string) ([]Instance, error) {
	out, err := c.queryInstances(`WHERE series_uid = ? ORDER BY COALESCE(instance_number, 0), sop_uid`, seriesUID)
	if err != nil {
		return nil, fmt.Errorf("cache: instances of %s: %w", seriesUID, err)
	}
	return out, nil
}

// CompareStackOrder orders two instances of a series as InstancesOf lists
// them, and so as the viewer stacks them: by Instance Number (0 when it has
// none), then by SOP Instance UID. The puller orders what it fetches of a
// series with it, so that it fetches in the order the reader scrolls.
func CompareStackOrder(aNumber int, aSOP string, bNumber int, bSOP string) int {
	return cmp.Or(cmp.Compare(aNumber, bNumber), strings.Compare(aSOP, bSOP))
}

// StudyInstances lists every instance of a study.
func (c *Cache) StudyInstances(studyUID string) ([]Instance, error) {
	out, err := c.queryInstances(`WHERE series_uid IN (SELECT series_uid FROM series WHERE study_uid = ?) ORDER BY series_uid, COALESCE(instance_number, 0), sop_uid`, studyUID)
	if err != nil {
		return nil, fmt.Errorf("cache: instances of study %s: %w", studyUID, err)
	}
	return out, nil
}

// InstanceByUID returns one stored instance, or ErrNotFound.
func (c *Cache) InstanceByUID(sop string) (Instance, error) {
	out, err := c.queryInstances(`WHERE sop_uid = ?`, sop)
	if err != nil {
		return Instance{}, fmt.Errorf("cache: instance %s: %w", sop, err)
	}
	if len(out) == 0 {
		return Instance{}, fmt.Errorf("cache: instance %s: %w", sop, ErrNotFound)
	}
	return out[0], nil
}

// AllInstances lists every indexed instance.
func (c *Cache) AllInstances() ([]Instance, error) {
	out, err := c.queryInstances(`ORDER BY sop_uid`)
	if err != nil {
		return nil, fmt.Errorf("cache: instances: %w", err)
	}
	return out, nil
}

// MarkRead records that a study was opened (for least-recently-read eviction).
func (c *Cache) MarkRead(studyUID string) error {
	if _, err := c.db.Exec(`UPDATE studies SET last_read_at = ? WHERE study_uid = ?`, now(), studyUID); err != nil {
		return fmt.Errorf("cache: mark read %s: %w", studyUID, err)
	}
	return nil
}

// Where a study came from (Study.Source). A consultation note is delivered to
// the archive only on a SourceArchive study (see SaveSigned).
const (
	SourceImport  = "import"  // files, folders, zip archives, DICOMDIRs imported by hand
	SourceArchive = "archive" // retrieved from the configured archive (worklist, priors)
	SourceShared  = "shared"  // opened for a second opinion (open, the app's Open…)
)

// SetSource records where a study came from (SourceImport, SourceArchive,
// SourceShared).
func (c *Cache) SetSource(studyUID, source string) error {
	if _, err := c.db.Exec(`UPDATE studies SET source = ? WHERE study_uid = ?`, source, studyUID); err != nil {
		return fmt.Errorf("cache: set source %s: %w", studyUID, err)
	}
	return nil
}
