//go:build !linux

package netlab

import (
	"fmt"
	"runtime"
)

// Do runs f inside the host's network namespace; only Linux has them.
func (h *Host) Do(f func() error) error {
	return fmt.Errorf("netlab: network namespaces are not available on %s", runtime.GOOS)
}
