package app

import (
	"fmt"
	"strings"

	"teleread/viewer"
)

// ctPresets are the CT windows radiologists expect on the number keys after the
// file's own windows (centre/width in HU).
var ctPresets = []viewer.Preset{
	{Name: "Brain", Window: viewer.Window{Center: 40, Width: 80}},
	{Name: "Subdural", Window: viewer.Window{Center: 75, Width: 215}},
	{Name: "Stroke", Window: viewer.Window{Center: 40, Width: 40}},
	{Name: "Lung", Window: viewer.Window{Center: -600, Width: 1500}},
	{Name: "Mediastinum", Window: viewer.Window{Center: 50, Width: 350}},
	{Name: "Abdomen", Window: viewer.Window{Center: 60, Width: 400}},
	{Name: "Liver", Window: viewer.Window{Center: 60, Width: 160}},
	{Name: "Bone", Window: viewer.Window{Center: 300, Width: 1500}},
}

// presetsFor returns the presets of the image on screen: the file's windows first,
// then for CT the standard CT windows. Key 1 selects the first, ..., 9 the ninth,
// 0 the tenth.
func presetsFor(res renderResult) []viewer.Preset {
	if res.frame == nil || res.frame.Color != viewer.Monochrome {
		return nil
	}
	out := append([]viewer.Preset(nil), res.presets...)
	if res.image != nil && strings.TrimSpace(res.image.File.DataSet.String(tagModality)) == "CT" {
		out = append(out, ctPresets...)
	}
	return out
}

// presetLabel is a preset's menu text with its key.
func presetLabel(i int, p viewer.Preset) string {
	key := ""
	switch {
	case i < 9:
		key = fmt.Sprintf("[%d] ", i+1)
	case i == 9:
		key = "[0] "
	}
	return fmt.Sprintf("%s%s  %g/%g", key, p.Name, p.Window.Center, p.Window.Width)
}
