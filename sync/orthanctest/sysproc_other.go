//go:build !linux

package orthanctest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
