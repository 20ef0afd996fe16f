//go:build !linux

package localarchive

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
