//go:build !linux

package netlab

import "syscall"

func backgroundAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
