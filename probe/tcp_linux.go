package probe

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// listenSaveSYN listens on TCP with TCP_SAVE_SYN, so each accepted socket
// can return the SYN that opened it (TCP_SAVED_SYN).
func listenSaveSYN(ctx context.Context, ap netip.AddrPort) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return control(c, func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SAVE_SYN, 1) })
	}}
	return lc.Listen(ctx, "tcp", ap.String())
}

// savedSYN returns the IP and TCP headers of the SYN that opened c.
func savedSYN(c *net.TCPConn) ([]byte, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 512)
	n := uint32(len(buf))
	err = control(rc, func(fd int) error {
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_SAVED_SYN,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e != 0 {
			return e
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("TCP_SAVED_SYN: %w", err)
	}
	return buf[:n], nil
}

// tcpMSS connects to the responder's TCP port and fills the MSS fields.
func tcpMSS(ctx context.Context, o *Options, rep *Report) error {
	d := net.Dialer{Timeout: max(3*o.Timeout, 2e9)}
	c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(o.Addr, uint16(o.Port)).String())
	if err != nil {
		return fmt.Errorf("tcp connect to the responder: %w", err)
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var info *unix.TCPInfo
	var maxseg int
	if err := control(rc, func(fd int) error {
		var err error
		if info, err = unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err != nil {
			return err
		}
		maxseg, err = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG)
		return err
	}); err != nil {
		return fmt.Errorf("tcp info: %w", err)
	}
	c.SetReadDeadline(deadline(ctx, 3*o.Timeout))
	seen, err := parseMSSLine(bufio.NewReader(c))
	if err != nil {
		return err
	}
	// tcpi_advmss is the MSS our SYN carried, less the 12 bytes of
	// timestamps Linux takes off once they are negotiated.
	rep.MSSSent = int(info.Advmss)
	if info.Options&tcpiOptTimestamps != 0 {
		rep.MSSSent += 12
	}
	rep.MSSSeenByPeer = seen
	rep.MSSClamped = seen != 0 && seen != rep.MSSSent
	rep.MSSNegotiated = maxseg
	return nil
}

// tcpiOptTimestamps is TCPI_OPT_TIMESTAMPS of linux/tcp.h.
const tcpiOptTimestamps = 1
