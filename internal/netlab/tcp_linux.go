package netlab

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TCPPair opens a real TCP connection from client to a listener on addr in
// server (port chosen by the kernel), all within timeout, and returns both
// ends: the client's connected socket and the server's accepted one. The
// sockets live in their hosts' namespaces; close them when done.
func TCPPair(client, server *Host, addr netip.Addr, timeout time.Duration) (c, s *net.TCPConn, err error) {
	deadline := time.Now().Add(timeout)
	var ln *net.TCPListener
	if err := server.Do(func() error {
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
		ln = l
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("listen on %s in %s: %w", addr, server.name, err)
	}
	defer ln.Close()
	if err := ln.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	type accepted struct {
		c   *net.TCPConn
		err error
	}
	acc := make(chan accepted, 1)
	go func() {
		c, err := ln.AcceptTCP()
		acc <- accepted{c, err}
	}()
	var cc net.Conn
	if err := client.Do(func() error {
		d := net.Dialer{Deadline: deadline}
		var err error
		cc, err = d.Dial("tcp", ln.Addr().String())
		return err
	}); err != nil {
		ln.Close()
		<-acc
		return nil, nil, fmt.Errorf("dial %s from %s: %w", ln.Addr(), client.name, err)
	}
	a := <-acc
	if a.err != nil {
		cc.Close()
		return nil, nil, fmt.Errorf("accept on %s in %s: %w", ln.Addr(), server.name, a.err)
	}
	return cc.(*net.TCPConn), a.c, nil
}

// TCPMaxSeg is getsockopt(TCP_MAXSEG) on a connected socket: Linux returns
// the current send MSS (tp->mss_cache), which is the smaller of the peer's
// MSS option and the path MTU less the fixed headers, minus the TCP options
// sent on every segment (12 bytes when timestamps were negotiated).
func TCPMaxSeg(c *net.TCPConn) (int, error) {
	var v int
	err := control(c, func(fd int) (err error) {
		v, err = unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG)
		return err
	})
	return v, err
}

// TCPInfo is getsockopt(TCP_INFO) on a socket. Of interest here: Advmss (the
// MSS option this socket advertised), Snd_mss (the send MSS, as TCP_MAXSEG),
// Options (TCPI_OPT_TIMESTAMPS and others that were negotiated).
func TCPInfo(c *net.TCPConn) (*unix.TCPInfo, error) {
	var ti *unix.TCPInfo
	err := control(c, func(fd int) (err error) {
		ti, err = unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		return err
	})
	return ti, err
}

func control(c *net.TCPConn, f func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	if ferr != nil {
		return fmt.Errorf("getsockopt: %w", ferr)
	}
	return nil
}

// Download is the labs' standard transfer over a real TCP connection from
// server (listening on addr) to client: the client sends a 100-byte request,
// the server a 200-byte header (which any path carries) and then body bytes.
// The client reads for at most wait and Download returns the body bytes it
// got. A negative wait: the client does not read at all for -wait (its
// window closes); abort > 0: the client resets the connection (RST, as a
// killed client does) that long after the body is queued. Errors before the
// body are fatal to t.
func Download(t testing.TB, client, server *Host, addr netip.Addr, body int, wait, abort time.Duration) int {
	t.Helper()
	c, s, err := TCPPair(client, server, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer s.Close()
	if _, err := c.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(s, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(make([]byte, 200)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 200)); err != nil {
		t.Fatalf("the 200-byte header did not arrive: %v", err)
	}
	go s.Write(make([]byte, body)) // returns when the data is queued or the socket closes
	if abort > 0 {
		time.Sleep(abort)
		c.SetLinger(0)
		return 0
	}
	if wait < 0 {
		time.Sleep(-wait)
		return 0
	}
	c.SetReadDeadline(time.Now().Add(wait))
	n, _ := io.ReadFull(c, make([]byte, body))
	return n
}
