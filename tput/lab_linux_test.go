//go:build linux

package tput_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/tput"
)

// openTUN creates a TUN device (raw IP, no packet info) in the namespace the
// calling thread is in, and returns it non-blocking as an *os.File.
func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// delayLine copies packets from src to dst, each delay after it was read.
// The kernel has no sch_netem here, so this userspace line supplies the RTT.
func delayLine(src, dst *os.File, delay time.Duration, wg *sync.WaitGroup) {
	type pkt struct {
		at time.Time
		b  []byte
	}
	q := make(chan pkt, 1<<16)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(q)
		for {
			b := make([]byte, 2048)
			n, err := src.Read(b)
			if err != nil {
				return
			}
			q <- pkt{time.Now().Add(delay), b[:n]}
		}
	}()
	go func() {
		defer wg.Done()
		for p := range q {
			if d := time.Until(p.at); d > 0 {
				time.Sleep(d)
			}
			dst.Write(p.b)
		}
	}()
}

// TestLabRenoAgainstModels runs a real Linux TCP transfer (Reno, so the
// models apply) across a path with a 20 ms RTT and 1% random loss of data
// segments (nftables numgen), and checks the measured goodput against
// Mathis (C = sqrt(3/2)) and PFTK computed from the connection's own MSS,
// RTT and RTO (TCP_INFO). The band is a factor of two either way: the models
// are for Reno without SACK; Linux adds SACK, PRR and RACK-TLP.
func TestLabRenoAgainstModels(t *testing.T) {
	netlab.Require(t, "nft")
	lab := netlab.New(t)
	c, s := lab.Host("client"), lab.Host("server")
	const oneWay = 10 * time.Millisecond
	var tc, ts *os.File
	if err := c.Do(func() (err error) { tc, err = openTUN("tl0"); return }); err != nil {
		t.Skipf("no TUN device: %v", err)
	}
	t.Cleanup(func() { tc.Close() })
	if err := s.Do(func() (err error) { ts, err = openTUN("tl0"); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	c.MustRun("ip", "addr", "add", "10.77.0.1", "peer", "10.77.0.2/32", "dev", "tl0")
	s.MustRun("ip", "addr", "add", "10.77.0.2", "peer", "10.77.0.1/32", "dev", "tl0")
	for _, h := range []*netlab.Host{c, s} {
		h.MustRun("ip", "link", "set", "tl0", "mtu", "1500", "up")
		h.Sysctl("net.ipv4.tcp_congestion_control", "reno")
	}
	var wg sync.WaitGroup
	delayLine(tc, ts, oneWay, &wg)
	delayLine(ts, tc, oneWay, &wg)
	t.Cleanup(func() { tc.Close(); ts.Close(); wg.Wait() })
	s.RandomLoss(netlab.Input, 1, "tcp dport 5201")

	var ln net.Listener
	if err := s.Do(func() (err error) { ln, err = net.Listen("tcp4", "10.77.0.2:5201"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		bytes    int64
		from, to time.Time
	}
	res := make(chan result, 1)
	const warm, run = 2 * time.Second, 10 * time.Second
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			res <- result{}
			return
		}
		defer conn.Close()
		buf := make([]byte, 1<<16)
		start := time.Now()
		var r result
		for {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			now := time.Now()
			if now.Sub(start) >= warm {
				if r.from.IsZero() {
					r.from = now
				}
				r.bytes += int64(n)
				r.to = now
			}
			if err != nil {
				break
			}
		}
		res <- r
	}()
	var conn *net.TCPConn
	if err := c.Do(func() error {
		d, err := net.DialTimeout("tcp4", "10.77.0.2:5201", 5*time.Second)
		if err == nil {
			conn = d.(*net.TCPConn)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<16)
	deadline := time.Now().Add(run)
	for time.Now().Before(deadline) {
		conn.SetWriteDeadline(deadline)
		if _, err := conn.Write(chunk); err != nil {
			break
		}
	}
	info, err := tcpInfo(conn)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.bytes == 0 || !r.to.After(r.from) {
		t.Fatal("no data measured")
	}
	measured := tput.Rate(float64(r.bytes) * 8 / r.to.Sub(r.from).Seconds())
	rtt := time.Duration(info.rtt) * time.Microsecond
	rto := time.Duration(info.rto) * time.Microsecond
	lossSeen := float64(info.totalRetrans) / float64(info.segsOut)
	mathis := tput.Mathis(int(info.sndMSS), rtt, 0.01, tput.MathisC(1))
	pftk := tput.Rate(tput.PFTK(0.01, tput.PFTKParams{RTT: rtt, T0: rto, B: 1}) * float64(info.sndMSS) * 8)
	t.Logf("measured %v over %.1f s; MSS %d, srtt %v, rto %v, retransmitted %d of %d segments (%.2f%%)",
		measured, r.to.Sub(r.from).Seconds(), info.sndMSS, rtt, rto, info.totalRetrans, info.segsOut, 100*lossSeen)
	t.Logf("models at p = 1%%: Mathis C=sqrt(3/2) %v (measured/model %.2f), PFTK %v (%.2f)",
		mathis, float64(measured)/float64(mathis), pftk, float64(measured)/float64(pftk))
	for _, m := range []struct {
		name string
		r    tput.Rate
	}{{"Mathis", mathis}, {"PFTK", pftk}} {
		if ratio := float64(measured) / float64(m.r); ratio < 0.5 || ratio > 2 || math.IsNaN(ratio) {
			t.Errorf("measured %v is outside [0.5, 2] x %s %v", measured, m.name, m.r)
		}
	}
}

type tcpInfoFields struct {
	rtt, rto, sndMSS, totalRetrans uint32
	segsOut                        uint32
}

// tcpInfo reads the fields the test needs from struct tcp_info (linux/tcp.h).
func tcpInfo(c *net.TCPConn) (tcpInfoFields, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return tcpInfoFields{}, err
	}
	var buf [232]byte
	var serr error
	err = raw.Control(func(fd uintptr) {
		l := uint32(len(buf))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_TCP, unix.TCP_INFO, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
		if e != 0 {
			serr = e
		}
	})
	if err == nil {
		err = serr
	}
	u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(buf[off:]) }
	// Offsets in struct tcp_info: tcpi_rto 8, tcpi_snd_mss 16, tcpi_rtt 68,
	// tcpi_total_retrans 100, tcpi_segs_out 136.
	return tcpInfoFields{rto: u32(8), sndMSS: u32(16), rtt: u32(68), totalRetrans: u32(100), segsOut: u32(136)}, err
}
