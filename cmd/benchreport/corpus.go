package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// entry is the part of a corpus MANIFEST.json entry the report reads.
type entry struct {
	ID     string `json:"id"`
	File   string `json:"file"`
	Broken bool   `json:"broken"`
	DICOM  struct {
		TransferSyntaxName string `json:"transfer_syntax_name"`
		DetectedEncoding   string `json:"detected_encoding"`
		Rows               int    `json:"rows"`
		Columns            int    `json:"columns"`
		Photometric        string `json:"photometric_interpretation"`
	} `json:"dicom"`
	Info struct {
		TransferSyntaxUID string `json:"TransferSyntaxUID"`
		StudyInstanceUID  string `json:"StudyInstanceUID"`
		SeriesInstanceUID string `json:"SeriesInstanceUID"`
	} `json:"info"`
	Reference struct {
		Status string `json:"status"`
		Shape  []int  `json:"shape"` // frames, rows, columns, samples
	} `json:"reference"`
}

// tsName is the transfer syntax's name, or the detected encoding for a file
// without a meta header.
func (e entry) tsName() string {
	if e.DICOM.TransferSyntaxName != "" {
		return e.DICOM.TransferSyntaxName
	}
	if e.DICOM.DetectedEncoding != "" {
		return e.DICOM.DetectedEncoding + " (no meta header)"
	}
	return e.Info.TransferSyntaxUID
}

// manifest reads the corpus manifest.
func (b *bench) manifest() ([]entry, error) {
	data, err := os.ReadFile(filepath.Join(b.corpus, "MANIFEST.json"))
	if err != nil {
		return nil, fmt.Errorf("corpus manifest: %w (use -corpus DIR)", err)
	}
	var m struct {
		Files []entry `json:"files"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("corpus manifest: %w", err)
	}
	return m.Files, nil
}

// corpusFile returns the path of a corpus file by id, checking that it exists.
func (b *bench) corpusFile(id string) (string, error) {
	p := filepath.Join(b.corpus, "files", id+".dcm")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("corpus file %s.dcm: %w (use -corpus DIR)", id, err)
	}
	return p, nil
}
