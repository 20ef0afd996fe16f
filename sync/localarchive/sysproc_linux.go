package localarchive

import "syscall"

// sysProcAttr makes the kernel kill Orthanc when the process that started it
// dies, so a crashed test run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
