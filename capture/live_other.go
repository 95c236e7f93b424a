//go:build !linux

package capture

import (
	"fmt"
	"runtime"

	"github.com/gopacket/gopacket/layers"
)

// Live reads the frames of one network interface as they pass: Linux
// only (AF_PACKET). Elsewhere OpenLive says so.
type Live struct {
	link  layers.LinkType
	iface string
}

// OpenLive is not supported on this system: capture with tcpdump and pipe
// it (tcpdump -w - | mtukit analyze -).
func OpenLive(iface string, _ LiveOptions) (*Live, error) {
	return nil, fmt.Errorf("live capture on %s is not supported on %s (Linux only): capture with tcpdump -i %s -w - | mtukit analyze -", iface, runtime.GOOS, iface)
}

func (l *Live) next() ([]byte, int64, int, error) { return nil, 0, 0, errLiveTimeout }

// Stats are the kernel's counts for the socket.
func (l *Live) Stats() (LiveStats, error) { return LiveStats{}, nil }

// Close releases the capture.
func (l *Live) Close() {}
