package app

import (
	"fyne.io/fyne/v2"

	"teleread/viewer"
)

// Shortcut is one documented control of the workstation.
type Shortcut struct {
	Keys string
	Does string
}

// Shortcuts lists every mouse and keyboard control, as the in-app help (F1) and
// the README show them. They follow Weasis, OHIF and RadiAnt: left drag adjusts
// the window by default, the wheel and the arrow keys scroll the stack, number
// keys choose window presets.
var Shortcuts = []Shortcut{
	{"Worklist: click / ↑ ↓", "select a study"},
	{"Worklist: double-click / Enter", "open the study"},
	{"Worklist: click a column title", "sort by it (again: reverse)"},
	{"Mouse wheel, ↑ ↓", "previous / next image of the stack"},
	{"Page Up / Page Down", "10 images back / forward"},
	{"Home / End", "first / last image"},
	{"← →", "previous / next frame (pauses cine); images in a stack"},
	{"Left drag", "active tool: window/level by default (right = wider, down = higher level)"},
	{"Right drag", "zoom (up = in)"},
	{"Middle drag, Shift + left drag", "pan"},
	{"Ctrl + left drag", "scroll through the stack"},
	{"1 … 9, 0", "window presets: the file's windows first, then for CT brain, subdural, stroke, lung, mediastinum, abdomen, liver, bone"},
	{"W / P / Z / S", "tool: window/level, pan, zoom, stack scroll"},
	{"D / G / E", "tool: length (distance), angle, ellipse ROI"},
	{"Delete / Backspace", "remove the newest measurement on the image"},
	{"+ / -", "zoom in / out"},
	{"F", "fit to the viewport"},
	{"A", "actual size (1:1)"},
	{"I", "invert"},
	{"R / L", "rotate 90° right / left"},
	{"H / V", "flip horizontally / vertically"},
	{"Esc", "reset window, zoom, pan, rotation; cancel a measurement; close help, the tag browser or a question; while a study opens, back to the worklist"},
	{"Space", "play / pause cine (multi-frame images)"},
	{"[ / ]", "cine slower / faster"},
	{"C", "cine loop / sweep"},
	{"N / B", "next / previous series in the viewport"},
	{"F5 / F6 / F7", "layout 1x1 / 1x2 / 2x2"},
	{"K", "compare with the prior: the study left, its most recent cached prior of the same Patient ID right (1x2), scrolling linked by slice position; again to end. A listed prior under another Patient ID is never paired: its series are listed apart"},
	{"U", "unlink / link the compared viewports' scrolling (linking again keeps the offset set while unlinked)"},
	{"Drag a series thumbnail", "show that series in the viewport it is dropped on (another patient's asks first and is marked OTHER PATIENT)"},
	{"T", "DICOM tag browser"},
	{"Q", "back to the worklist"},
	{"Ctrl+Enter, Sign report… button", "ask to sign the report (once signed: the addendum typed); the dialog names the patient and study and, for an incomplete study, what is missing; Enter signs, Esc cancels"},
	{"Ctrl+O, Open… button", "open a folder, CD / USB stick (DICOMDIR), zip or DICOM file: its studies are marked shared, listed first and the first is opened"},
	{"Drop files or folders on the window", "open them the same way"},
	{"F1", "this help"},
}

// typedKey handles a key typed on the viewer or the worklist (keys typed in text
// fields stay there).
func (ws *workstation) typedKey(ev *fyne.KeyEvent) {
	if ws.modal != nil {
		if ev.Name == fyne.KeyEscape {
			ws.modal.Hide()
		}
		return
	}
	if ev.Name == fyne.KeyF1 {
		ws.showHelp()
		return
	}
	if ws.opening() {
		// Nothing of a study is on screen to act on; Esc goes back to
		// the worklist instead of waiting.
		if ev.Name == fyne.KeyEscape {
			ws.showWorklist()
		}
		return
	}
	if !ws.onViewer {
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter, fyne.KeyUp, fyne.KeyDown:
			ws.worklist.table.TypedKey(ev)
		}
		return
	}
	vp := ws.viewer.active
	if vp == nil {
		return
	}
	switch ev.Name {
	case fyne.KeyUp:
		vp.step(-1)
	case fyne.KeyDown:
		vp.step(1)
	case fyne.KeyLeft:
		vp.stepFrame(-1)
	case fyne.KeyRight:
		vp.stepFrame(1)
	case fyne.KeyPageUp:
		vp.step(-10)
	case fyne.KeyPageDown:
		vp.step(10)
	case fyne.KeyHome:
		vp.goTo(0)
	case fyne.KeyEnd:
		if vp.st != nil {
			vp.goTo(len(vp.st.Items) - 1)
		}
	case fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7, fyne.Key8, fyne.Key9:
		ws.applyPreset(int(ev.Name[0] - '1'))
	case fyne.Key0:
		ws.applyPreset(9)
	case fyne.KeyW:
		ws.setTool(toolWindow)
	case fyne.KeyP:
		ws.setTool(toolPan)
	case fyne.KeyZ:
		ws.setTool(toolZoom)
	case fyne.KeyS:
		ws.setTool(toolScroll)
	case fyne.KeyD:
		ws.setTool(toolLength)
	case fyne.KeyG:
		ws.setTool(toolAngle)
	case fyne.KeyE:
		ws.setTool(toolEllipse)
	case fyne.KeyDelete, fyne.KeyBackspace:
		vp.deleteLastMeasure()
	case fyne.KeyF:
		vp.fit()
	case fyne.KeyA:
		vp.actualSize()
	case fyne.KeyI:
		vp.toggleInvert()
	case fyne.KeyR:
		vp.rotate(1)
	case fyne.KeyL:
		vp.rotate(-1)
	case fyne.KeyH:
		vp.flip(true)
	case fyne.KeyV:
		vp.flip(false)
	case fyne.KeyEscape:
		vp.reset()
	case fyne.KeySpace:
		vp.toggleCine()
	case fyne.KeyC:
		if vp.cineMode == viewer.Sweeping {
			vp.setCineMode(viewer.Looping)
			ws.viewer.modeSel.SetSelected("loop")
		} else {
			vp.setCineMode(viewer.Sweeping)
			ws.viewer.modeSel.SetSelected("sweep")
		}
	case fyne.KeyN:
		ws.viewer.nextSeries(1)
	case fyne.KeyB:
		ws.viewer.nextSeries(-1)
	case fyne.KeyF5:
		ws.viewer.setLayout(0)
	case fyne.KeyF6:
		ws.viewer.setLayout(1)
	case fyne.KeyF7:
		ws.viewer.setLayout(2)
	case fyne.KeyK:
		ws.viewer.toggleCompare()
	case fyne.KeyU:
		ws.viewer.toggleLink()
	case fyne.KeyQ:
		ws.showWorklist()
	}
	vp.Refresh()
}

// typedRune handles the character shortcuts.
//
// T opens the tag browser here, on its character rather than its key: the
// desktop driver delivers the key first and the character after it, so the
// browser's filter, focused on opening, would otherwise receive the "t".
func (ws *workstation) typedRune(r rune) {
	if ws.modal != nil || !ws.onViewer || ws.viewer.active == nil {
		return
	}
	vp := ws.viewer.active
	switch r {
	case 't', 'T':
		ws.showTags()
	case '+', '=':
		vp.zoomBy(1.25)
	case '-':
		vp.zoomBy(0.8)
	case '[':
		vp.setCineSpeed(vp.cineSpeed / 2)
		ws.viewer.speedSel.SetSelected(speedLabel(vp.cineSpeed))
	case ']':
		vp.setCineSpeed(vp.cineSpeed * 2)
		ws.viewer.speedSel.SetSelected(speedLabel(vp.cineSpeed))
	}
}

func speedLabel(f float64) string {
	switch f {
	case 0.25:
		return "x0.25"
	case 0.5:
		return "x0.5"
	case 1:
		return "x1"
	case 2:
		return "x2"
	case 4:
		return "x4"
	}
	return ""
}
