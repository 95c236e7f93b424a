//go:build !linux

package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

func notImplemented() error {
	return fmt.Errorf("probing is not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}

func newICMPTransport(*Options) (transport, error) { return nil, notImplemented() }
func newUDPTransport(*Options) (transport, error)  { return nil, notImplemented() }

func listenSaveSYN(context.Context, netip.AddrPort) (net.Listener, error) {
	return nil, notImplemented()
}

func savedSYN(*net.TCPConn) ([]byte, error) { return nil, notImplemented() }

func tcpMSS(context.Context, *Options, *Report) error { return notImplemented() }

func enableFragSize(*net.UDPConn) bool { return false }
func fragSize([]byte) int              { return -1 }
