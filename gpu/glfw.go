package gpu

import (
	"fmt"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// NewWindowed starts a render service on the context of a hidden GLFW window,
// for the desktop app. runOnMain must run its function on the main (GLFW) thread
// and return when it has run; the app passes fyne.DoAndWait, so this package
// needs no Fyne import. glfw.Init is called there (it returns at once when the
// toolkit already initialised GLFW) and glfw.Terminate never is. Window hints
// are reset before and after, so no hint set here leaks into the toolkit's next
// window. It returns an error wrapping ErrNoContext when no window can be made.
func NewWindowed(runOnMain func(func())) (*Context, error) {
	return start(func() (device, func(), error) {
		var (
			win *glfw.Window
			err error
		)
		runOnMain(func() {
			if err = glfw.Init(); err != nil {
				return
			}
			glfw.DefaultWindowHints()
			defer glfw.DefaultWindowHints()
			glfw.WindowHint(glfw.Visible, glfw.False)
			glfw.WindowHint(glfw.ContextVersionMajor, 3)
			glfw.WindowHint(glfw.ContextVersionMinor, 3)
			glfw.WindowHint(glfw.OpenGLProfile, glfw.OpenGLCoreProfile)
			glfw.WindowHint(glfw.OpenGLForwardCompatible, glfw.True)
			win, err = glfw.CreateWindow(1, 1, "teleread render", nil, nil)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: GLFW: %v", ErrNoContext, err)
		}
		win.MakeContextCurrent()
		release := func() {
			glfw.DetachCurrentContext()
			runOnMain(win.Destroy)
		}
		d, err := newGLDevice(glfw.GetProcAddress)
		if err != nil {
			release()
			return nil, nil, err
		}
		return d, release, nil
	})
}
