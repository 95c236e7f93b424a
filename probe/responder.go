package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mtukit/mtukit/mss"
)

// Responder answers `mtukit probe --method udp|tcp`. It is meant to be safe
// on the Internet:
//
//   - UDP: every valid probe gets one 32-byte acknowledgement carrying the
//     size received, never more than the request (which is at least 32
//     bytes), so it cannot amplify; malformed or unauthenticated messages
//     get nothing.
//   - a per-source token bucket (IPv6 per /64) over a fixed table bounds
//     both the reply rate and the memory, whatever the number of sources.
//     Sources can be spoofed: each spoofed source gets its replies 1:1
//     within the per-source limit (never larger than what it sent), so a
//     total bucket shared by all sources (TotalRate) bounds what the
//     responder sends in all; Stats counts the requests each limit refused.
//   - TCP: at most MaxConns connections at once, each answered with one
//     short line and closed within two seconds.
//   - Token, when set, is a shared secret: probes without its MAC are
//     dropped and acknowledgements carry it.
type Responder struct {
	Listen   netip.AddrPort
	Token    []byte
	Rate     float64 // replies per second per source; 200 when zero
	Burst    int     // bucket size; 100 when zero
	MaxConns int     // concurrent TCP connections; 64 when zero
	// TotalRate bounds the replies per second of all sources together
	// (UDP acknowledgements and TCP answers); 2000 when zero, as ten
	// sources at the default Rate. TotalBurst is its bucket; TotalRate/2
	// when zero.
	TotalRate  float64
	TotalBurst int

	// Counters (read with Stats).
	udpIn, udpAcked, udpDropped, tcpAccepted, tcpDropped atomic.Int64
	sourceLimited, totalLimited                          atomic.Int64

	mu    sync.Mutex
	ready chan struct{}
	udp   *net.UDPConn
	tcp   net.Listener
}

// Stats are a responder's counters.
type Stats struct {
	UDPIn, UDPAcked, UDPDropped, TCPAccepted, TCPDropped int64
	// SourceLimited and TotalLimited count the UDP probes and TCP
	// connections refused (and counted in UDPDropped, TCPDropped) by the
	// per-source limit and by the total one.
	SourceLimited, TotalLimited int64
}

// Stats returns the counters so far.
func (r *Responder) Stats() Stats {
	return Stats{r.udpIn.Load(), r.udpAcked.Load(), r.udpDropped.Load(), r.tcpAccepted.Load(), r.tcpDropped.Load(),
		r.sourceLimited.Load(), r.totalLimited.Load()}
}

// Addr returns the bound UDP address once Serve has started (it blocks
// until then), for tests that listen on port 0.
func (r *Responder) Addr() netip.AddrPort {
	<-r.readyChan()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.udp == nil {
		return netip.AddrPort{}
	}
	return r.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *Responder) readyChan() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready == nil {
		r.ready = make(chan struct{})
	}
	return r.ready
}

// Serve listens on UDP and TCP at Listen (the TCP port follows the UDP
// port when Listen's port is 0) and answers until ctx ends.
func (r *Responder) Serve(ctx context.Context) error {
	if err := r.Open(ctx); err != nil {
		return err
	}
	return r.Run(ctx)
}

// Open binds the sockets (so a caller can open them in one network
// namespace and Run them from any goroutine).
func (r *Responder) Open(ctx context.Context) error {
	ready := r.readyChan()
	if r.Rate <= 0 {
		r.Rate = 200
	}
	if r.Burst <= 0 {
		r.Burst = 100
	}
	if r.MaxConns <= 0 {
		r.MaxConns = 64
	}
	if r.TotalRate <= 0 {
		r.TotalRate = 2000
	}
	if r.TotalBurst <= 0 {
		r.TotalBurst = max(1, int(r.TotalRate/2))
	}
	udp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(r.Listen))
	if err != nil {
		close(ready)
		return err
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	tcp, err := listenSaveSYN(ctx, netip.AddrPortFrom(r.Listen.Addr(), uint16(port)))
	if err != nil {
		udp.Close()
		close(ready)
		return fmt.Errorf("tcp listener: %w", err)
	}
	r.mu.Lock()
	r.udp, r.tcp = udp, tcp
	r.mu.Unlock()
	close(ready)
	return nil
}

// Run answers on the sockets Open bound until ctx ends, then closes them.
func (r *Responder) Run(ctx context.Context) error {
	r.mu.Lock()
	udp, tcp := r.udp, r.tcp
	r.mu.Unlock()
	if udp == nil {
		return errors.New("run called before open")
	}
	lim := newLimiter(r.Rate, r.Burst, 4096).withTotal(r.TotalRate, r.TotalBurst)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.serveUDP(udp, lim) }()
	go func() { defer wg.Done(); r.serveTCP(tcp, lim) }()
	<-ctx.Done()
	udp.Close()
	tcp.Close()
	wg.Wait()
	return nil
}

func (r *Responder) serveUDP(c *net.UDPConn, lim *limiter) {
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	out := make([]byte, wireLen)
	frags := enableFragSize(c) // the kernel reports the largest fragment of each datagram
	for {
		n, oobn, _, from, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		r.udpIn.Add(1)
		frag := -1
		if frags {
			frag = fragSize(oob[:oobn])
		}
		reply, ok := r.answer(buf[:n], from.Addr(), frag, out, lim, time.Now())
		if !ok {
			r.udpDropped.Add(1)
			continue
		}
		if _, err := c.WriteToUDPAddrPort(reply, from); err == nil {
			r.udpAcked.Add(1)
		}
	}
}

// answer is the per-datagram work: the acknowledgement to send (in out,
// never longer than the request) or false to stay silent. frag is the
// largest fragment the datagram arrived in (0: whole, -1: unknown). It does
// not allocate without a token.
func (r *Responder) answer(in []byte, from netip.Addr, frag int, out []byte, lim *limiter, now time.Time) ([]byte, bool) {
	m, err := Decode(in, r.Token)
	if err != nil || m.Type != typeProbe || !r.admit(lim, from, now) {
		return nil, false
	}
	// The IP packet size as received: UDP payload + 8 + the IP header (no
	// options or extension headers are expected on probes).
	got := len(in) + 8 + ipHeaderLen(from.Unmap())
	Encode(out, Msg{Type: typeAck, Size: got, Seq: m.Seq, Nonce: m.Nonce, FragKnown: frag >= 0, Frag: max(frag, 0)}, r.Token)
	return out[:min(wireLen, len(in))], true
}

// admit asks lim for a reply to from, counting a refusal by the limit
// that refused it.
func (r *Responder) admit(lim *limiter, from netip.Addr, now time.Time) bool {
	switch lim.take(from, now) {
	case sourceLimited:
		r.sourceLimited.Add(1)
		return false
	case totalLimited:
		r.totalLimited.Add(1)
		return false
	}
	return true
}

func (r *Responder) serveTCP(l net.Listener, lim *limiter) {
	sem := make(chan struct{}, r.MaxConns)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
		if !r.admit(lim, from, time.Now()) {
			r.tcpDropped.Add(1)
			c.Close()
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			r.tcpDropped.Add(1)
			c.Close()
			continue
		}
		r.tcpAccepted.Add(1)
		go func() {
			defer func() { <-sem }()
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			line := "MTK1 SYN MSS 0\n"
			if syn, err := savedSYN(c.(*net.TCPConn)); err == nil {
				if v, ok := synMSS(syn); ok {
					line = fmt.Sprintf("MTK1 SYN MSS %d\n", v)
				}
			}
			c.Write([]byte(line))
		}()
	}
}

// synMSS reads the MSS option from a saved SYN (IP header + TCP header, as
// TCP_SAVED_SYN returns it).
func synMSS(syn []byte) (int, bool) {
	if len(syn) < 1 {
		return 0, false
	}
	var tcp []byte
	switch syn[0] >> 4 {
	case 4:
		if len(syn) < 20 {
			return 0, false
		}
		ihl := int(syn[0]&0x0f) * 4
		if ihl < 20 || len(syn) < ihl || syn[9] != protoTCP {
			return 0, false
		}
		tcp = syn[ihl:]
	case 6:
		if len(syn) < 40 || syn[6] != protoTCP {
			return 0, false
		}
		tcp = syn[40:]
	default:
		return 0, false
	}
	s, err := mss.Summarize(tcp)
	if err != nil || !s.SYN || s.MSS == 0 {
		return 0, false
	}
	return int(s.MSS), true
}

// parseMSSLine reads the responder's "MTK1 SYN MSS n" line.
func parseMSSLine(br *bufio.Reader) (int, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("reading the responder's answer: %w", err)
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "MTK1" || f[1] != "SYN" || f[2] != "MSS" {
		return 0, fmt.Errorf("unexpected answer %q (is it mtukit responder?)", strings.TrimSpace(line))
	}
	v, err := strconv.Atoi(f[3])
	if err != nil || v < 0 || v > 65535 {
		return 0, fmt.Errorf("unexpected MSS %q", f[3])
	}
	return v, nil
}
