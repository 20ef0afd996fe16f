package app

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// statusBar shows the connection, sync progress, outbox, renderer and the latest
// note along the bottom of the window. It is given what it shows (the renderer,
// the metrics, each status event) rather than the workstation.
type statusBar struct {
	info     RendererInfo
	metrics  *Metrics
	dot      *canvas.Circle
	online   *widget.Label
	link     *widget.Label
	progress *widget.ProgressBar
	sync     *widget.Label
	outbox   *widget.Label
	renderer *widget.Label
	timing   *widget.Label
	message  *widget.Label
	extra    *fyne.Container
	content  fyne.CanvasObject
}

func newStatusBar(info RendererInfo, m *Metrics) *statusBar {
	s := &statusBar{info: info, metrics: m, dot: canvas.NewCircle(color.Gray{Y: 0x80}), online: widget.NewLabel(""), link: widget.NewLabel(""),
		progress: widget.NewProgressBar(), sync: widget.NewLabel(""), outbox: widget.NewLabel(""),
		renderer: widget.NewLabel(""), timing: widget.NewLabel(""), message: widget.NewLabel("")}
	s.message.Truncation = fyne.TextTruncateEllipsis
	dot := container.NewGridWrap(fyne.NewSize(12, 12), s.dot)
	prog := container.NewGridWrap(fyne.NewSize(140, 18), s.progress)
	s.extra = container.NewHBox()
	left := container.NewHBox(container.NewCenter(dot), s.online, s.link, s.sync, container.NewCenter(prog), s.outbox, widget.NewSeparator(), s.renderer, s.timing)
	bg := canvas.NewRectangle(colStatusBar)
	bar := container.NewBorder(nil, nil, left, s.extra, s.message)
	s.content = container.NewStack(bg, bar)
	return s
}

func (s *statusBar) setMessage(m string) { s.message.SetText(m) }

// update shows the newest state.
func (s *statusBar) update(ev StatusEvent) {
	switch {
	case ev.Archive == "" && !ev.Online:
		s.dot.FillColor = color.Gray{Y: 0x80}
		s.online.SetText("Offline — no archive configured (reading from the local cache)")
	case ev.Online:
		s.dot.FillColor = color.NRGBA{G: 0xc0, B: 0x40, A: 0xff}
		s.online.SetText("Online " + ev.Archive)
	default:
		s.dot.FillColor = colStat
		s.online.SetText("Offline " + ev.Archive + " (reading from the local cache)")
	}
	s.dot.Refresh()
	if ev.Link != "" && ev.Archive != "" {
		s.link.SetText("(" + ev.Link + ")")
	} else {
		s.link.SetText("")
	}
	if ev.SyncTotal > 0 {
		s.sync.SetText(fmt.Sprintf("Sync %d/%d", ev.SyncDone, ev.SyncTotal))
		s.progress.SetValue(float64(ev.SyncDone) / float64(ev.SyncTotal))
		s.progress.Show()
	} else {
		s.sync.SetText("Sync idle")
		s.progress.Hide()
	}
	s.outbox.SetText(fmt.Sprintf("Outbox %d", ev.Outbox))
	s.renderer.SetText(s.info.String())
	if fi := s.metrics.FirstImage(); len(fi) > 0 {
		s.timing.SetText(fmt.Sprintf("first image %.0f ms", float64(fi[len(fi)-1].Microseconds())/1000))
	}
	if ev.Message != "" {
		s.message.SetText(ev.Message)
	}
}
