package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// route finds the source address the kernel uses towards dst and the MTU of
// the outgoing interface (no packet is sent).
func route(dst netip.Addr) (netip.Addr, int, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("no route to %s: %w", dst, err)
	}
	src := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	mtu := 0
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if p, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(p.IP); ok && ip.Unmap() == src {
					mtu = ifc.MTU
				}
			}
		}
	}
	return src, min(mtu, 65535), nil
}

// setDF makes fd send every packet with fragmentation forbidden, ignoring
// the kernel's cached path MTU (IP_PMTUDISC_PROBE: only the interface MTU
// limits a send), and turns on IP_RECVERR when errq.
func setDF(fd int, v6, errq bool) error {
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE); err != nil {
			return fmt.Errorf("IPV6_MTU_DISCOVER: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1); err != nil {
			return fmt.Errorf("IPV6_DONTFRAG: %w", err)
		}
		if errq {
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
		}
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE); err != nil {
		return fmt.Errorf("IP_MTU_DISCOVER: %w", err)
	}
	if errq {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	}
	return nil
}

func control(c syscall.RawConn, f func(fd int) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// base holds what every transport shares: the reader goroutine's channel,
// the sizes of the probes sent (for PTBs from the error queue) and close.
type base struct {
	src, dst netip.Addr
	mtu      int
	mode     string
	ev       chan event
	mu       sync.Mutex
	sizes    map[uint32]int
	closers  []func() error
	wg       sync.WaitGroup
	done     chan struct{}
}

func newBase(o *Options) (*base, error) {
	src, mtu, err := route(o.Addr)
	if err != nil {
		return nil, err
	}
	return &base{src: src, dst: o.Addr, mtu: mtu, mode: o.Socket, ev: make(chan event, 64), sizes: map[uint32]int{}, done: make(chan struct{})}, nil
}

func (b *base) events() <-chan event { return b.ev }
func (b *base) socket() string       { return b.mode }
func (b *base) maxSize() int         { return b.mtu }
func (b *base) v6() bool             { return b.dst.Is6() }

func (b *base) sent(seq uint32, size int) {
	b.mu.Lock()
	b.sizes[seq] = size
	b.mu.Unlock()
}

func (b *base) sizeOf(seq uint32) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sizes[seq]
}

func (b *base) emit(e event) {
	select {
	case b.ev <- e:
	case <-b.done:
	}
}

func (b *base) close() error {
	close(b.done)
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	b.wg.Wait()
	return errors.Join(errs...)
}

// readLoop reads datagrams and, with errq, the error queue of c until it is
// closed, handing each to onData / onErr. One goroutine reads both, since Go
// serialises readers of one socket.
func (b *base) readLoop(c syscall.RawConn, errq bool, onData func(p []byte, from netip.Addr, frag int), onErr func(ee *unix.SockExtendedErr, data []byte)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		buf := make([]byte, 65536)
		oob := make([]byte, 512)
		for {
			var (
				n, oobn int
				from    unix.Sockaddr
				isErr   bool
				rerr    error
			)
			err := c.Read(func(fd uintptr) bool {
				if errq {
					n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
					if rerr == nil {
						isErr = true
						return true
					}
				}
				n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
				if rerr == unix.EAGAIN {
					return false
				}
				return true
			})
			if err != nil {
				return // closed
			}
			if rerr != nil {
				continue // a pending socket error (EMSGSIZE after a PTB) surfaces here once
			}
			if isErr {
				if onErr != nil {
					if ee, ok := parseErrCmsg(oob[:oobn]); ok {
						onErr(ee, buf[:n])
					}
				}
				continue
			}
			onData(buf[:n], sockaddrAddr(from), fragSize(oob[:oobn]))
		}
	}()
}

func parseErrCmsg(oob []byte) (*unix.SockExtendedErr, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, false
	}
	for _, m := range msgs {
		if (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
			if len(m.Data) < int(unsafe.Sizeof(unix.SockExtendedErr{})) {
				return nil, false
			}
			var ee unix.SockExtendedErr
			ee.Errno = binary.NativeEndian.Uint32(m.Data[0:4])
			ee.Origin, ee.Type, ee.Code = m.Data[4], m.Data[5], m.Data[6]
			ee.Info = binary.NativeEndian.Uint32(m.Data[8:12])
			ee.Data = binary.NativeEndian.Uint32(m.Data[12:16])
			return &ee, true
		}
	}
	return nil, false
}

// eePTB reports whether an extended error is a PTB and its MTU.
func eePTB(ee *unix.SockExtendedErr) (int, bool) {
	switch {
	case ee.Origin == unix.SO_EE_ORIGIN_ICMP && ee.Type == icmp4Unreach && ee.Code == icmp4FragNeeded:
		return int(ee.Info), true
	case ee.Origin == unix.SO_EE_ORIGIN_ICMP6 && ee.Type == icmp6PacketTooBig:
		return int(ee.Info), true
	}
	return 0, false
}

func sockaddrAddr(sa unix.Sockaddr) netip.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr).Unmap()
	}
	return netip.Addr{}
}

func sockaddr(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

// ptbEvent turns a raw ICMP message into a PTB event (payload copied), or
// reports false when it is not a PTB.
func ptbEvent(msg []byte, v6 bool) (event, bool) {
	var p PTB
	var err error
	if v6 {
		err = ParseICMPv6(msg, &p)
	} else {
		err = ParseICMPv4(msg, &p)
	}
	if err == ErrNotPTB {
		return event{}, false
	}
	if err != nil {
		// A malformed PTB: counted, never used.
		return event{ptb: PTB{IPv6: v6, MTU: -1}}, true
	}
	p.Payload = append([]byte(nil), p.Payload[:min(len(p.Payload), 64)]...)
	return event{ptb: p}, true
}

// openRaw opens a raw ICMP (or ICMPv6) socket bound to src that passes only
// the ICMP types in allow.
func openRaw(src netip.Addr, allow ...byte) (*os.File, syscall.RawConn, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if src.Is6() {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.Bind(fd, sockaddr(src, 0)); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("bind %s: %w", src, err)
	}
	if src.Is6() {
		var f unix.ICMPv6Filter
		for i := range f.Data {
			f.Data[i] = 0xffffffff
		}
		for _, t := range allow {
			f.Data[t>>5] &^= 1 << (t & 31)
		}
		err = unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f)
	} else {
		mask := ^uint32(0)
		for _, t := range allow {
			mask &^= 1 << t
		}
		err = unix.SetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER, int(mask))
	}
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("icmp filter: %w", err)
	}
	f := os.NewFile(uintptr(fd), "icmp-raw")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// ---- icmp method ----

type icmpTransport struct {
	*base
	f     *os.File
	rc    syscall.RawConn
	id    uint16
	raw   bool
	frags bool // IP_RECVFRAGSIZE is on: echo replies tell their fragments
	buf   []byte
}

func newICMPTransport(o *Options) (transport, error) {
	b, err := newBase(o)
	if err != nil {
		return nil, err
	}
	t := &icmpTransport{base: b, buf: make([]byte, 65536)}
	v6 := b.v6()
	if o.Socket != SocketErrqueue {
		var echoReply, ptb, te byte = icmp4EchoReply, icmp4Unreach, 11
		if v6 {
			echoReply, ptb, te = icmp6EchoReply, icmp6PacketTooBig, 3
		}
		t.f, t.rc, err = openRaw(b.src, echoReply, ptb, te)
		if err == nil {
			t.raw, b.mode = true, SocketRaw
			t.id = uint16(rand.Uint32())
		} else if o.Socket == SocketRaw {
			return nil, fmt.Errorf("raw icmp socket: %w (run as root or use --socket errqueue)", err)
		}
	}
	if !t.raw {
		if t.f, t.rc, err = openPing(b.src); err != nil {
			return nil, fmt.Errorf("icmp method: no raw socket (not root) and no ping socket (%w); allow one with sysctl net.ipv4.ping_group_range, or use --method udp", err)
		}
		b.mode = SocketErrqueue
		if err := control(t.rc, func(fd int) error {
			sa, err := unix.Getsockname(fd)
			if err != nil {
				return err
			}
			switch a := sa.(type) {
			case *unix.SockaddrInet4:
				t.id = uint16(a.Port)
			case *unix.SockaddrInet6:
				t.id = uint16(a.Port)
			}
			return nil
		}); err != nil {
			t.f.Close()
			return nil, err
		}
	}
	if err := control(t.rc, func(fd int) error { return setDF(fd, v6, !t.raw) }); err != nil {
		t.f.Close()
		return nil, err
	}
	if !v6 {
		_ = control(t.rc, func(fd int) error { t.frags = setFragSize(fd); return nil })
	}
	b.closers = append(b.closers, t.f.Close)
	b.readLoop(t.rc, !t.raw, t.onData, t.onErr)
	return t, nil
}

func openPing(src netip.Addr) (*os.File, syscall.RawConn, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if src.Is6() {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.Bind(fd, sockaddr(src, 0)); err != nil {
		unix.Close(fd)
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), "icmp-ping")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

func (t *icmpTransport) hdr() int {
	if t.v6() {
		return 48
	}
	return 28
}

func (t *icmpTransport) send(seq uint32, size int) error {
	if size < t.hdr() {
		return fmt.Errorf("probe size %d below the %d-byte echo headers", size, t.hdr())
	}
	m := t.buf[:size-t.hdr()+8]
	clear(m)
	m[0] = icmp4Echo
	if t.v6() {
		m[0] = icmp6Echo
	}
	binary.BigEndian.PutUint16(m[4:6], t.id)
	binary.BigEndian.PutUint16(m[6:8], uint16(seq))
	if !t.v6() && t.raw {
		binary.BigEndian.PutUint16(m[2:4], checksum(m))
	}
	t.sent(seq, size)
	var serr error
	err := t.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), m, 0, sockaddr(t.dst, 0))
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}

// sendNoDF sends an echo request of size that routers may fragment.
func (t *icmpTransport) sendNoDF(seq uint32, size int) error {
	return sendNoDF(t.rc, func() error { return t.send(seq, size) })
}

// fragPath: the fragments seen are those of the echo reply, cut on the
// way back (Linux and most hosts answer without DF).
func (t *icmpTransport) fragPath() string {
	if t.frags && !t.v6() {
		return "reverse"
	}
	return ""
}

func (t *icmpTransport) onData(p []byte, from netip.Addr, frag int) {
	msg := p
	if t.raw && !t.v6() {
		_, pl, err := StripIPv4(p)
		if err != nil {
			return
		}
		msg = pl
	}
	if len(msg) < 8 {
		return
	}
	reply := byte(icmp4EchoReply)
	if t.v6() {
		reply = icmp6EchoReply
	}
	if msg[0] == reply {
		if from != t.dst || binary.BigEndian.Uint16(msg[4:6]) != t.id {
			return
		}
		seq := uint32(binary.BigEndian.Uint16(msg[6:8]))
		t.emit(event{ack: true, seq: seq, size: len(msg) + t.hdr() - 8, fragKnown: t.frags, frag: frag})
		return
	}
	if e, ok := ptbEvent(msg, t.v6()); ok {
		e.from = from
		t.emit(e)
		return
	}
	var te PTB
	if ParseTimeExceeded(msg, t.v6(), &te) == nil {
		te.Payload = nil
		t.emit(event{te: true, from: from, ptb: te})
	}
}

// setTTL sets the TTL (hop limit) of the next probes; 0 restores the
// system default.
func (t *icmpTransport) setTTL(ttl int) error {
	if ttl == 0 {
		ttl = -1
	}
	return control(t.rc, func(fd int) error {
		if t.v6() {
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
	})
}

func (t *icmpTransport) rawSocket() bool { return t.raw }

// onErr turns an error-queue PTB (already matched to this socket by the
// kernel) into a PTB event carrying the quoted echo header.
func (t *icmpTransport) onErr(ee *unix.SockExtendedErr, data []byte) {
	mtu, ok := eePTB(ee)
	if !ok {
		return
	}
	p := PTB{IPv6: t.v6(), MTU: mtu, Src: t.src, Dst: t.dst, Proto: protoICMP}
	if t.v6() {
		p.Proto = protoICMPv6
	}
	if len(data) >= 8 {
		p.Echo = true
		p.EchoID = t.id // the kernel rewrites it on ping sockets and matched it
		p.EchoSeq = binary.BigEndian.Uint16(data[6:8])
		p.Size = t.sizeOf(uint32(p.EchoSeq))
	}
	t.emit(event{ptb: p})
}

func (t *icmpTransport) quote(seq uint32, size int) Quote {
	q := Quote{Src: t.src, Dst: t.dst, Proto: protoICMP, EchoID: t.id, EchoSeq: uint16(seq), Size: size}
	if t.v6() {
		q.Proto = protoICMPv6
	}
	return q
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ---- udp method ----

type udpTransport struct {
	*base
	conn  *net.UDPConn
	port  int
	lport uint16
	nonce uint64
	token []byte
	buf   []byte
}

func newUDPTransport(o *Options) (transport, error) {
	b, err := newBase(o)
	if err != nil {
		return nil, err
	}
	t := &udpTransport{base: b, port: o.Port, nonce: rand.Uint64(), token: o.Token, buf: make([]byte, 65536)}
	v6 := b.v6()
	// PTBs: a raw socket when permitted (every PTB seen, validated here),
	// else the UDP socket's error queue.
	var rawF *os.File
	var rawRC syscall.RawConn
	if o.Socket != SocketErrqueue {
		ptb := byte(icmp4Unreach)
		if v6 {
			ptb = icmp6PacketTooBig
		}
		rawF, rawRC, err = openRaw(b.src, ptb)
		if err != nil && o.Socket == SocketRaw {
			return nil, fmt.Errorf("raw icmp socket: %w (run as root or use --socket errqueue)", err)
		}
	}
	errq := rawF == nil
	b.mode = SocketRaw
	if errq {
		b.mode = SocketErrqueue
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return control(c, func(fd int) error { return setDF(fd, v6, errq) })
	}}
	netw := "udp4"
	if v6 {
		netw = "udp6"
	}
	pc, err := lc.ListenPacket(context.Background(), netw, netip.AddrPortFrom(b.src, 0).String())
	if err != nil {
		if rawF != nil {
			rawF.Close()
		}
		return nil, err
	}
	t.conn = pc.(*net.UDPConn)
	t.lport = uint16(t.conn.LocalAddr().(*net.UDPAddr).Port)
	rc, err := t.conn.SyscallConn()
	if err != nil {
		t.conn.Close()
		return nil, err
	}
	b.closers = append(b.closers, t.conn.Close)
	b.readLoop(rc, errq, t.onData, t.onErr)
	if rawF != nil {
		b.closers = append(b.closers, rawF.Close)
		b.readLoop(rawRC, false, t.onRaw, nil)
	}
	return t, nil
}

func (t *udpTransport) hdr() int {
	if t.v6() {
		return 48
	}
	return 28
}

func (t *udpTransport) send(seq uint32, size int) error {
	if size < t.hdr()+wireLen {
		return fmt.Errorf("probe size %d below the %d bytes of headers", size, t.hdr()+wireLen)
	}
	p := t.buf[:size-t.hdr()]
	Encode(p, Msg{Type: typeProbe, Size: size, Seq: seq, Nonce: t.nonce}, t.token)
	t.sent(seq, size)
	_, err := t.conn.WriteToUDPAddrPort(p, netip.AddrPortFrom(t.dst, uint16(t.port)))
	return err
}

func (t *udpTransport) onData(p []byte, from netip.Addr, _ int) {
	if from != t.dst {
		return
	}
	m, err := Decode(p, t.token)
	if err != nil || m.Type != typeAck || m.Nonce != t.nonce {
		return
	}
	t.emit(event{ack: true, seq: m.Seq, size: m.Size, fragKnown: m.FragKnown, frag: m.Frag})
}

// sendNoDF sends a probe that routers may fragment.
func (t *udpTransport) sendNoDF(seq uint32, size int) error {
	rc, err := t.conn.SyscallConn()
	if err != nil {
		return err
	}
	return sendNoDF(rc, func() error { return t.send(seq, size) })
}

// fragPath: the responder reports the fragments the probe arrived in.
func (t *udpTransport) fragPath() string {
	if t.v6() {
		return ""
	}
	return "forward"
}

func (t *udpTransport) onRaw(p []byte, from netip.Addr, _ int) {
	msg := p
	if !t.v6() {
		_, pl, err := StripIPv4(p)
		if err != nil {
			return
		}
		msg = pl
	}
	if e, ok := ptbEvent(msg, t.v6()); ok {
		e.from = from
		t.emit(e)
	}
}

// onErr: the kernel matched the PTB to this socket by its ports; data is
// the quoted UDP payload, whose header names the probe.
func (t *udpTransport) onErr(ee *unix.SockExtendedErr, data []byte) {
	mtu, ok := eePTB(ee)
	if !ok {
		return
	}
	p := PTB{IPv6: t.v6(), MTU: mtu, Src: t.src, Dst: t.dst, Proto: protoUDP, SrcPort: t.lport, DstPort: uint16(t.port)}
	if m, err := Decode(data, nil); err == nil {
		p.Size = m.Size
		p.UDPLen = m.Size - t.hdr() + 8
		p.Payload = append([]byte(nil), data[:min(len(data), 64)]...)
	}
	t.emit(event{ptb: p})
}

func (t *udpTransport) quote(seq uint32, size int) Quote {
	tag := make([]byte, wireLen)
	Encode(tag, Msg{Type: typeProbe, Size: size, Seq: seq, Nonce: t.nonce}, t.token)
	return Quote{Src: t.src, Dst: t.dst, Proto: protoUDP, SrcPort: t.lport, DstPort: uint16(t.port), Size: size, Tag: tag[:20]}
}
