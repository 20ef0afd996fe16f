package report

import (
	"bytes"
	"fmt"

	"teleread/viewer/dataset"
)

// StudyContextFromFiles reads the study context from the headers of the
// study's files (metadata only; pixel data is never read). Patient and
// study attributes come from the first file; every file must carry the
// same Study Instance UID. Series and instances keep the order of paths,
// and an instance listed twice is counted once.
func StudyContextFromFiles(paths []string) (StudyContext, error) {
	return StudyContextFrom(paths, dataset.Open)
}

// StudyContextFrom is StudyContextFromFiles for files opened by open (the
// cache's, which decrypts them), named by what open takes.
func StudyContextFrom(paths []string, open func(string) (*dataset.File, error)) (StudyContext, error) {
	var sc StudyContext
	seriesIndex := map[string]int{}
	seen := map[string]bool{}
	for i, path := range paths {
		f, err := open(path)
		if err != nil {
			return StudyContext{}, fmt.Errorf("report: study context %s: %w", path, err)
		}
		ds := f.DataSet
		if i == 0 {
			sc = studyAttributes(ds)
			if sc.StudyUID() == "" {
				f.Close()
				return StudyContext{}, fmt.Errorf("report: study context %s: %w", path, ErrNoStudy)
			}
		} else if uid := ds.String(dataset.StudyInstanceUID); uid != sc.StudyUID() {
			f.Close()
			return StudyContext{}, fmt.Errorf("report: study context %s: study %q, not %q: %w",
				path, uid, sc.StudyUID(), ErrStudyMismatch)
		}
		seriesUID := ds.String(dataset.SeriesInstanceUID)
		sop := InstanceRef{SOPClassUID: ds.String(dataset.SOPClassUID), SOPInstanceUID: ds.String(dataset.SOPInstanceUID)}
		if sop.SOPClassUID == "" {
			sop.SOPClassUID = f.Meta.String(dataset.MediaStorageSOPClassUID)
		}
		if sop.SOPInstanceUID == "" {
			sop.SOPInstanceUID = f.Meta.String(dataset.MediaStorageSOPInstanceUID)
		}
		f.Close()
		if seriesUID == "" || sop.SOPClassUID == "" || sop.SOPInstanceUID == "" {
			return StudyContext{}, fmt.Errorf("report: study context %s: series or SOP instance UID missing: %w", path, ErrInvalidValue)
		}
		if seen[sop.SOPInstanceUID] {
			continue
		}
		seen[sop.SOPInstanceUID] = true
		k, ok := seriesIndex[seriesUID]
		if !ok {
			k = len(sc.Series)
			seriesIndex[seriesUID] = k
			number, _ := ds.Int(dataset.SeriesNumber)
			sc.Series = append(sc.Series, SeriesRef{
				SeriesInstanceUID: seriesUID,
				SeriesNumber:      number,
				Modality:          ds.String(dataset.Modality),
				BodyPartExamined:  ds.String(dataset.BodyPartExamined),
			})
		}
		sc.Series[k].Instances = append(sc.Series[k].Instances, sop)
	}
	if len(paths) == 0 {
		return StudyContext{}, fmt.Errorf("report: study context: no files: %w", ErrNoStudy)
	}
	return sc, nil
}

// studyAttributes copies the Patient and General Study values of ds.
func studyAttributes(ds *dataset.DataSet) StudyContext {
	value := func(t dataset.Tag) []byte {
		if e := ds.Get(t); e != nil && len(e.Value) > 0 {
			return bytes.Clone(e.Value)
		}
		return nil
	}
	sc := StudyContext{
		CharacterSet:           ds.String(dataset.SpecificCharacterSet),
		PatientName:            value(dataset.PatientName),
		PatientID:              value(dataset.PatientID),
		PatientBirthDate:       value(dataset.PatientBirthDate),
		PatientSex:             value(dataset.PatientSex),
		StudyInstanceUID:       value(dataset.StudyInstanceUID),
		StudyDate:              value(dataset.StudyDate),
		StudyTime:              value(dataset.StudyTime),
		ReferringPhysicianName: value(dataset.ReferringPhysicianName),
		StudyID:                value(dataset.StudyID),
		AccessionNumber:        value(dataset.AccessionNumber),
	}
	if e := ds.Get(issuerOfPatientID); e != nil {
		sc.IssuerOfPatientID = append([]byte{}, e.Value...)
	}
	return sc
}

var issuerOfPatientID = dataset.T(0x0010, 0x0021)
