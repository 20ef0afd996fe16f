package main

import (
	"fmt"
	"os"
)

func runApp(g *globals, args []string) int {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(os.Stderr, "teleread: no display (DISPLAY and WAYLAND_DISPLAY are unset).\n"+
			"The reading app needs a graphical session. On a headless machine run it under a virtual display:\n"+
			"    xvfb-run -a teleread\n"+
			"Headless commands work without one: teleread import|studies|info|render|verify ...")
		return 1
	}
	fmt.Fprintln(os.Stderr, "teleread: the app is not built yet")
	return 1
}
