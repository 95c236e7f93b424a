//go:build !linux

package netlab

import (
	"os"
	"syscall"
)

// Without network namespaces no lab runs here (Host.Do says so); these
// keep the package building, so that the tool and its tests build on macOS
// and Windows.

func backgroundAttr() *syscall.SysProcAttr { return nil }

func groupAttr() *syscall.SysProcAttr { return nil }

// killGroup ends p (process groups are a Unix notion).
func killGroup(p *os.Process, _ syscall.Signal) error { return p.Kill() }

// gone is false: nothing is swept where no namespace can be left behind.
func gone(int) bool { return false }
