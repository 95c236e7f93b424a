package probe

import (
	"encoding/binary"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// IPv4 routers fragment a packet sent without DF instead of dropping it,
// and no ICMP is involved, so the fragments' sizes name the MTU of the
// path they crossed even behind a PMTUD black hole: a link of MTU m cuts
// fragments of 20 + 8*floor((m-20)/8) bytes, so the largest fragment F
// puts m in [F, F+7]. Linux reports F for a reassembled datagram with
// IP_RECVFRAGSIZE (since 4.10).

// enableFragSize turns on IP_RECVFRAGSIZE (and IPV6_RECVFRAGSIZE, for IPv4
// datagrams on a dual-stack socket) and reports whether the kernel took it.
func enableFragSize(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = control(rc, func(fd int) error {
		ok = setFragSize(fd)
		return nil
	})
	return ok
}

func setFragSize(fd int) bool {
	e4 := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVFRAGSIZE, 1)
	e6 := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVFRAGSIZE, 1)
	return e4 == nil || e6 == nil
}

// fragSize returns the largest fragment of the datagram whose control
// messages are oob, 0 when it arrived whole.
func fragSize(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVFRAGSIZE) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVFRAGSIZE) {
			if len(m.Data) >= 4 {
				return int(int32(binary.NativeEndian.Uint32(m.Data)))
			}
		}
	}
	return 0
}

// sendNoDF sends one packet with fragmentation allowed (IPv4), then puts
// fd back to probing with DF.
func sendNoDF(rc syscall.RawConn, send func() error) error {
	if err := control(rc, func(fd int) error {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT)
	}); err != nil {
		return err
	}
	serr := send()
	if err := control(rc, func(fd int) error {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE)
	}); err != nil {
		return err
	}
	return serr
}
