package netlab

import (
	"errors"
	"os"
	"syscall"
)

func backgroundAttr() *syscall.SysProcAttr {
	// Pdeathsig is tied to the forking thread; Start never runs on a thread
	// that Do leaves locked, so the thread outlives the process in practice.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupAttr starts a command in a process group of its own, so that
// killGroup reaches its children too.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends sig to p's process group.
func killGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}

// gone reports that no process has the id pid.
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
