package netlab

import "syscall"

func backgroundAttr() *syscall.SysProcAttr {
	// Pdeathsig is tied to the forking thread; Start never runs on a thread
	// that Do leaves locked, so the thread outlives the process in practice.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
