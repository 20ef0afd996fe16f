package gpu

/*
#cgo pkg-config: egl
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <stdlib.h>
#include <string.h>

#ifndef EGL_PLATFORM_SURFACELESS_MESA
#define EGL_PLATFORM_SURFACELESS_MESA 0x31DD
#endif

typedef struct {
	EGLDisplay dpy;
	EGLContext ctx;
	EGLSurface surf;
	const char *stage; // where opening failed
	EGLint err;        // eglGetError() there
} teleread_egl;

static int teleread_has_ext(const char *list, const char *name) {
	if (list == NULL) return 0;
	size_t n = strlen(name);
	const char *p = list;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
		p += n;
	}
	return 0;
}

// teleread_egl_open makes a GL 3.3 core context current on the calling thread:
// the Mesa surfaceless platform when offered (no X, no GPU device node needed),
// else the default display; surfaceless when the driver allows it, else a 1x1
// pbuffer.
static int teleread_egl_open(teleread_egl *e) {
	memset(e, 0, sizeof *e);
	e->dpy = EGL_NO_DISPLAY;
	e->ctx = EGL_NO_CONTEXT;
	e->surf = EGL_NO_SURFACE;
	const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (teleread_has_ext(client, "EGL_MESA_platform_surfaceless")) {
		PFNEGLGETPLATFORMDISPLAYEXTPROC getPlatformDisplay =
			(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
		if (getPlatformDisplay != NULL) {
			e->dpy = getPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
		}
	}
	EGLint major, minor;
	if (e->dpy == EGL_NO_DISPLAY || !eglInitialize(e->dpy, &major, &minor)) {
		e->dpy = eglGetDisplay(EGL_DEFAULT_DISPLAY);
		if (e->dpy == EGL_NO_DISPLAY) { e->stage = "eglGetDisplay"; e->err = eglGetError(); return 0; }
		if (!eglInitialize(e->dpy, &major, &minor)) { e->stage = "eglInitialize"; e->err = eglGetError(); e->dpy = EGL_NO_DISPLAY; return 0; }
	}
	if (!eglBindAPI(EGL_OPENGL_API)) { e->stage = "eglBindAPI(EGL_OPENGL_API)"; e->err = eglGetError(); return 0; }
	static const EGLint cfgAttr[] = {
		EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
		EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
		EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
		EGL_NONE,
	};
	EGLConfig cfg;
	EGLint n = 0;
	if (!eglChooseConfig(e->dpy, cfgAttr, &cfg, 1, &n) || n < 1) { e->stage = "eglChooseConfig"; e->err = eglGetError(); return 0; }
	static const EGLint ctxAttr[] = {
		EGL_CONTEXT_MAJOR_VERSION, 3,
		EGL_CONTEXT_MINOR_VERSION, 3,
		EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
		EGL_NONE,
	};
	e->ctx = eglCreateContext(e->dpy, cfg, EGL_NO_CONTEXT, ctxAttr);
	if (e->ctx == EGL_NO_CONTEXT) { e->stage = "eglCreateContext(3.3 core)"; e->err = eglGetError(); return 0; }
	const char *ext = eglQueryString(e->dpy, EGL_EXTENSIONS);
	if (!teleread_has_ext(ext, "EGL_KHR_surfaceless_context")) {
		static const EGLint pbAttr[] = { EGL_WIDTH, 1, EGL_HEIGHT, 1, EGL_NONE };
		e->surf = eglCreatePbufferSurface(e->dpy, cfg, pbAttr);
		if (e->surf == EGL_NO_SURFACE) { e->stage = "eglCreatePbufferSurface"; e->err = eglGetError(); return 0; }
	}
	if (!eglMakeCurrent(e->dpy, e->surf, e->surf, e->ctx)) { e->stage = "eglMakeCurrent"; e->err = eglGetError(); return 0; }
	return 1;
}

static void teleread_egl_close(teleread_egl *e) {
	if (e->dpy == EGL_NO_DISPLAY) return;
	eglMakeCurrent(e->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	if (e->surf != EGL_NO_SURFACE) eglDestroySurface(e->dpy, e->surf);
	if (e->ctx != EGL_NO_CONTEXT) eglDestroyContext(e->dpy, e->ctx);
	eglReleaseThread();
	e->dpy = EGL_NO_DISPLAY;
}

static void *teleread_egl_proc(const char *name) {
	return (void *)eglGetProcAddress(name);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// openEGL makes an offscreen GL 3.3 core context current on the calling (locked)
// thread and returns the function that destroys it, on the same thread.
func openEGL() (getProc func(string) unsafe.Pointer, release func(), err error) {
	e := (*C.teleread_egl)(C.malloc(C.size_t(unsafe.Sizeof(C.teleread_egl{}))))
	if C.teleread_egl_open(e) == 0 {
		stage := C.GoString(e.stage)
		code := int(e.err)
		C.teleread_egl_close(e)
		C.free(unsafe.Pointer(e))
		return nil, nil, fmt.Errorf("%w: EGL: %s failed (EGL error 0x%04x)", ErrNoContext, stage, code)
	}
	getProc = func(name string) unsafe.Pointer {
		cs := C.CString(name)
		defer C.free(unsafe.Pointer(cs))
		return C.teleread_egl_proc(cs)
	}
	release = func() {
		C.teleread_egl_close(e)
		C.free(unsafe.Pointer(e))
	}
	return getProc, release, nil
}
