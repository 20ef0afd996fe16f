package localarchive

import (
	"encoding/json"
	"fmt"
)

// StudyIDs returns Orthanc's identifiers of the studies with this Study Instance UID.
func (s *Server) StudyIDs(studyUID string) ([]string, error) {
	b, err := s.Get("/studies?expand")
	if err != nil {
		return nil, err
	}
	var studies []struct {
		ID            string
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &studies); err != nil {
		return nil, fmt.Errorf("localarchive: studies: %w", err)
	}
	var ids []string
	for _, st := range studies {
		if st.MainDicomTags.StudyInstanceUID == studyUID {
			ids = append(ids, st.ID)
		}
	}
	return ids, nil
}

// CopyStudy makes Orthanc store a modified copy of a study with new UIDs (its
// /modify call), replacing the given attributes, e.g.
// {"NameOfPhysiciansReadingStudy": "Doe^Jane", "StudyDate": "20260101"}, and
// returns the copy's Study Instance UID. Tests and the demo archive use it to
// assign studies to readers.
func (s *Server) CopyStudy(studyUID string, replace map[string]string) (string, error) {
	ids, err := s.StudyIDs(studyUID)
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("localarchive: study %s: %d Orthanc studies", studyUID, len(ids))
	}
	body, _ := json.Marshal(map[string]any{"Replace": replace, "Force": true})
	b, err := s.Post("/studies/"+ids[0]+"/modify", body)
	if err != nil {
		return "", err
	}
	var res struct{ ID string }
	if err := json.Unmarshal(b, &res); err != nil {
		return "", fmt.Errorf("localarchive: modify: %w", err)
	}
	b, err = s.Get("/studies/" + res.ID)
	if err != nil {
		return "", err
	}
	var st struct {
		MainDicomTags struct{ StudyInstanceUID string }
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return "", fmt.Errorf("localarchive: modify: %w", err)
	}
	return st.MainDicomTags.StudyInstanceUID, nil
}
