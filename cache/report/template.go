package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"teleread/assets"
)

// ErrTemplate: a template file cannot be used.
var ErrTemplate = errors.New("bad template")

// Template pre-fills a new draft. It applies to the modalities and body
// parts it lists; an empty list matches any.
type Template struct {
	Name       string   `json:"name"`
	Modalities []string `json:"modalities"`
	BodyParts  []string `json:"body_parts"`
	Sections   Sections `json:"sections"`
}

// LoadTemplates reads every *.json file in dir of fsys, sorted by file
// name.
func LoadTemplates(fsys fs.FS, dir string) ([]Template, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("report: templates %s: %w", dir, err)
	}
	sort.Strings(names)
	var out []Template
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("report: template %s: %w", name, err)
		}
		var t Template
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("report: template %s: %w: %w", name, ErrTemplate, err)
		}
		if t.Name == "" {
			return nil, fmt.Errorf("report: template %s: no name: %w", name, ErrTemplate)
		}
		for _, s := range []string{t.Sections.Findings, t.Sections.Impression, t.Sections.Recommendation} {
			if err := checkText(s); err != nil {
				return nil, fmt.Errorf("report: template %s: %w", name, err)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// BuiltinTemplates returns the templates shipped in package assets.
func BuiltinTemplates() ([]Template, error) {
	return LoadTemplates(assets.Templates, "templates")
}

// SelectTemplate returns the template that fits a study best: one listing
// both its modality and body part, else one listing its modality and no
// body part, else one listing neither (the default). Matching ignores case.
// ok is false when none fits.
func SelectTemplate(templates []Template, modality, bodyPart string) (t Template, ok bool) {
	best := -1
	for _, c := range templates {
		score := 0
		if len(c.Modalities) > 0 {
			if !containsFold(c.Modalities, modality) {
				continue
			}
			score += 2
		}
		if len(c.BodyParts) > 0 {
			if !containsFold(c.BodyParts, bodyPart) {
				continue
			}
			score++
		}
		if score > best {
			best, t = score, c
		}
	}
	return t, best >= 0
}

func containsFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
