//go:build linux

package probe

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/mss"
	"github.com/mtukit/mtukit/plpmtud"
)

// labPath is client -> router -> server in fresh namespaces: the client and
// router links at 1500, the router -> server link at the bottleneck MTU (or
// a VXLAN over it), so the true path MTU is set by the kernel, not by us.
type labPath struct {
	lab            *netlab.Lab
	c, r, s        *netlab.Host
	dst            netip.Addr
	truth          int
	port           int
	clientIf       string
	responderStats func() Stats
}

type scenario struct {
	name     string
	v6       bool
	mtu      int  // router -> server link
	vxlan    bool // the router reaches the server through a VXLAN over that link
	dropPTB  bool // the router drops every PTB: a black hole
	loss     int  // percent of forwarded packets dropped at random
	forged   bool // the router also sends forged PTBs with a wrong quote
	clampMSS int  // the router rewrites the MSS of SYNs to this
	method   string
	search   string
	socket   string
	// want
	blackhole bool
}

func buildPath(t *testing.T, sc scenario) *labPath {
	t.Helper()
	lab := netlab.New(t)
	c, r, s := lab.Host("client"), lab.Host("router"), lab.Host("server")
	lab.Link(c, r, netlab.LinkOpts{MTU: 1500, NameA: "eth0", NameB: "eth0",
		AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24", Addr6A: "fd01::1/64", Addr6B: "fd01::2/64"})
	p := &labPath{lab: lab, c: c, r: r, s: s, clientIf: "eth0"}
	if sc.vxlan {
		lab.Link(r, s, netlab.LinkOpts{MTU: sc.mtu, NameA: "eth1", NameB: "eth0",
			AddrA: "192.168.9.1/24", AddrB: "192.168.9.2/24"})
		p.truth = r.VXLAN("vx0", netlab.VXLANOpts{VNI: 42, Local: "192.168.9.1", Remote: "192.168.9.2", Dev: "eth1", DF: true,
			Addr: "10.0.2.1/24", Addr6: "fd02::1/64"})
		if m := s.VXLAN("vx0", netlab.VXLANOpts{VNI: 42, Local: "192.168.9.2", Remote: "192.168.9.1", Dev: "eth0", DF: true,
			Addr: "10.0.2.2/24", Addr6: "fd02::2/64"}); m != p.truth {
			t.Fatalf("vxlan MTUs differ: %d and %d", p.truth, m)
		}
	} else {
		lab.Link(r, s, netlab.LinkOpts{MTU: sc.mtu, NameA: "eth1", NameB: "eth0",
			AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24", Addr6A: "fd02::1/64", Addr6B: "fd02::2/64"})
		p.truth = sc.mtu
	}
	r.Forwarding(true)
	c.Route("default", "10.0.1.2")
	c.Route("default6", "fd01::2")
	s.Route("default", "10.0.2.1")
	s.Route("default6", "fd02::1")
	if sc.dropPTB {
		r.DropPTB()
	}
	if sc.loss > 0 {
		r.RandomLoss(netlab.Forward, sc.loss, "")
	}
	if sc.clampMSS > 0 {
		r.NftRule(netlab.Forward, fmt.Sprintf("tcp flags syn tcp option maxseg size set %d", sc.clampMSS))
	}
	p.dst = netip.MustParseAddr("10.0.2.2")
	if sc.v6 {
		p.dst = netip.MustParseAddr("fd02::2")
	}
	if sc.method == MethodUDP || sc.method == MethodTCP {
		resp := &Responder{Listen: netip.MustParseAddrPort("[::]:0"), Rate: 10000, Burst: 10000}
		if err := s.Do(func() error { return resp.Open(context.Background()) }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { resp.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		p.port = int(resp.Addr().Port())
		p.responderStats = resp.Stats
	}
	return p
}

// probeFilter is the BPF filter that matches our probes on the client link.
func probeFilter(sc scenario, port int) string {
	switch {
	case sc.method == MethodICMP && sc.v6:
		return "icmp6 and ip6[40] == 128"
	case sc.method == MethodICMP:
		return "icmp and icmp[icmptype] == icmp-echo"
	default:
		return fmt.Sprintf("udp and dst port %d", port)
	}
}

func TestLabScenarios(t *testing.T) {
	netlab.Require(t, "nft", "tcpdump")
	scenarios := []scenario{
		{name: "icmp-1400-ptb", mtu: 1400, method: MethodICMP},
		{name: "icmp-1400-blackhole", mtu: 1400, dropPTB: true, method: MethodICMP, blackhole: true},
		{name: "icmp-1417", mtu: 1417, method: MethodICMP},
		{name: "icmp-1333-blackhole", mtu: 1333, dropPTB: true, method: MethodICMP, blackhole: true},
		{name: "icmp6-1280", v6: true, mtu: 1280, method: MethodICMP},
		{name: "icmp6-1400-blackhole", v6: true, mtu: 1400, dropPTB: true, method: MethodICMP, blackhole: true},
		{name: "icmp-1500-clean", mtu: 1500, method: MethodICMP},
		{name: "icmp-vxlan", mtu: 1500, vxlan: true, method: MethodICMP},
		{name: "icmp-forged-ptb", mtu: 1400, forged: true, method: MethodICMP},
		{name: "icmp-errqueue-1400", mtu: 1400, method: MethodICMP, socket: SocketErrqueue},
		{name: "icmp-errqueue-1333-blackhole", mtu: 1333, dropPTB: true, method: MethodICMP, socket: SocketErrqueue, blackhole: true},
		{name: "udp-1400-ptb", mtu: 1400, method: MethodUDP},
		{name: "udp-1333-blackhole", mtu: 1333, dropPTB: true, method: MethodUDP, blackhole: true},
		{name: "udp6-1400", v6: true, mtu: 1400, method: MethodUDP},
		{name: "udp-errqueue-1417", mtu: 1417, method: MethodUDP, socket: SocketErrqueue},
		{name: "udp-forged-ptb", mtu: 1400, forged: true, method: MethodUDP},
		{name: "udp-vxlan-blackhole", mtu: 1500, vxlan: true, dropPTB: true, method: MethodUDP, blackhole: true},
		{name: "icmp-loss1", mtu: 1400, loss: 1, method: MethodICMP},
		{name: "icmp-loss3", mtu: 1400, loss: 3, method: MethodICMP},
		{name: "udp-loss5", mtu: 1400, loss: 5, method: MethodUDP},
		{name: "icmp-loss5-1500", mtu: 1500, loss: 5, method: MethodICMP},
		{name: "udp-loss3-blackhole", mtu: 1400, loss: 3, dropPTB: true, method: MethodUDP, blackhole: true},
		{name: "tcp-clamp", mtu: 1400, clampMSS: 1300, method: MethodTCP},
		{name: "tcp-noclamp", mtu: 1400, method: MethodTCP},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, sc)
		})
	}
}

func runScenario(t *testing.T, sc scenario) {
	p := buildPath(t, sc)
	if sc.socket == SocketErrqueue && sc.method == MethodICMP {
		p.c.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	}
	capt := p.c.Capture(p.clientIf, probeFilter(sc, p.port), "")
	o := Options{Addr: p.dst, Method: sc.method, Search: sc.search, Port: p.port, Socket: sc.socket,
		Timeout: 200 * time.Millisecond, Rate: 1000, MaxDuration: 20 * time.Second}
	if sc.forged {
		o.Progress = onceAfterFirst(forgePTBs(t, p, sc))
	}
	var rep *Report
	var err error
	if derr := p.c.Do(func() error { rep, err = Run(context.Background(), o); return nil }); derr != nil {
		t.Fatal(derr)
	}
	if err != nil {
		t.Fatalf("probe: %v (report %+v)", err, rep)
	}
	onWire, cerr := capt.Stop()
	if cerr != nil {
		t.Fatal(cerr)
	}
	t.Logf("%s: pmtu %d (truth %d), %d probes (%d on the wire), %d acked, %d lost, ptb %d/%d ignored, frag %d %s, blackhole %v, %d ms",
		sc.name, rep.PMTU, p.truth, rep.ProbesSent, onWire, rep.ProbesAcked, rep.ProbesLost, rep.PTBReceived, rep.PTBIgnored, rep.FragMax, rep.FragPath, rep.Blackhole, rep.DurationMS)
	if rep.PMTU > p.truth {
		t.Fatalf("OVERSHOOT: pmtu %d > true %d", rep.PMTU, p.truth)
	}
	if rep.PMTU != p.truth {
		t.Errorf("pmtu %d, want %d", rep.PMTU, p.truth)
	}
	if rep.Blackhole != sc.blackhole {
		t.Errorf("blackhole %v, want %v", rep.Blackhole, sc.blackhole)
	}
	if onWire != rep.ProbesSent {
		t.Errorf("probes_sent %d, but tcpdump saw %d probes leave the client ", rep.ProbesSent, onWire)
	}
	if rep.ProbesSent != rep.ProbesAcked+rep.ProbesLost+(rep.PTBReceived-rep.PTBIgnored) {
		t.Errorf("probes %d != acked %d + lost %d + used PTBs %d", rep.ProbesSent, rep.ProbesAcked, rep.ProbesLost, rep.PTBReceived-rep.PTBIgnored)
	}
	if !sc.dropPTB && p.truth < 1500 && sc.socket != SocketErrqueue && rep.PTBReceived-rep.PTBIgnored == 0 {
		t.Errorf("no PTB used although the router sends them")
	}
	if sc.dropPTB && rep.PTBReceived != 0 {
		t.Errorf("ptb_received %d behind a black hole", rep.PTBReceived)
	}
	// Behind an IPv4 black hole, the probe without DF comes back in the
	// fragments the kernel cut at the bottleneck: 20 + 8*floor((mtu-20)/8)
	// bytes, the size mtukit reports. With PTBs delivered it is never sent.
	// (Random loss may take that one probe.)
	switch wantFrag := 20 + (p.truth-20)/8*8; {
	case sc.dropPTB && !sc.v6 && (sc.search == "" || sc.search == plpmtud.Default):
		if rep.FragMax != wantFrag && !(sc.loss > 0 && rep.FragMax == 0) {
			t.Errorf("frag_max %d (%s), want %d: the fragments of a %d-byte link", rep.FragMax, rep.FragPath, wantFrag, p.truth)
		}
	case !sc.dropPTB && p.truth < 1500 && sc.loss == 0 && rep.FragMax != 0:
		t.Errorf("frag_max %d: a probe without DF was sent although PTBs arrive", rep.FragMax)
	}
	if sc.forged && rep.PTBIgnored != 3 {
		t.Errorf("ptb_ignored %d, want the 3 forged PTBs", rep.PTBIgnored)
	}
	// The advice is calc's for this link MTU.
	want, _ := advise.Calc(advise.Options{LinkMTU: p.truth})
	if rep.Recommended == nil || rep.Recommended.TunnelMTU != want.TunnelMTU || rep.Recommended.MSS != want.MSS {
		t.Errorf("recommended %+v, want tunnel MTU %d MSS %+v", rep.Recommended, want.TunnelMTU, want.MSS)
	}
	if sc.method == MethodTCP {
		checkTCP(t, p, sc, rep)
	}
	if sc.vxlan {
		// The kernel's VXLAN MTU is what calc says a vxlan stack leaves of the underlay.
		v, err := advise.Calc(advise.Options{Stack: "vxlan", LinkMTU: sc.mtu})
		if err != nil || v.TunnelMTU != p.truth {
			t.Errorf("calc vxlan over %d = %v (%v), kernel chose %d", sc.mtu, v.TunnelMTU, err, p.truth)
		}
	}
}

// checkTCP compares the MSS fields with what the kernel does on an
// independent connection across the same path.
func checkTCP(t *testing.T, p *labPath, sc scenario, rep *Report) {
	t.Helper()
	if want := mss.ForMTU(1500, encap.IPv4); rep.MSSSent != want {
		t.Errorf("mss_sent %d, want %d (RFC 6691 for the client's 1500-byte interface)", rep.MSSSent, want)
	}
	wantSeen := rep.MSSSent
	if sc.clampMSS > 0 {
		wantSeen = sc.clampMSS
	}
	if rep.MSSSeenByPeer != wantSeen || rep.MSSClamped != (sc.clampMSS > 0) {
		t.Errorf("mss_seen_by_peer %d clamped %v, want %d %v", rep.MSSSeenByPeer, rep.MSSClamped, wantSeen, sc.clampMSS > 0)
	}
	var b strings.Builder
	rep.WriteText(&b)
	want := fmt.Sprintf("our SYN said %d, the responder saw %d: not clamped; send MSS %d", rep.MSSSent, wantSeen, rep.MSSNegotiated)
	if sc.clampMSS > 0 {
		want = fmt.Sprintf("our SYN said %d, the responder saw %d: a middlebox clamps the MSS; send MSS %d", rep.MSSSent, sc.clampMSS, rep.MSSNegotiated)
	}
	if !strings.Contains(b.String(), want) {
		t.Errorf("text report lacks %q:\n%s", want, b.String())
	}
	cc, ss, err := netlab.TCPPair(p.c, p.s, p.dst, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	defer ss.Close()
	ms, err := netlab.TCPMaxSeg(cc)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MSSNegotiated != ms {
		t.Errorf("mss_negotiated %d, kernel's TCP_MAXSEG on another connection %d", rep.MSSNegotiated, ms)
	}
}

// forgePTBs opens a raw socket in the router and returns a function that
// sends it three forged PTBs (MTU 1300) to the client, each quoting a packet
// from the client to the server whose identifier or ports and size match no
// probe. Tests call it from Options.Progress after the first outcome and
// give the packets 20 ms to land, so the forged PTBs arrive while the
// search is still running, whatever its speed.
func forgePTBs(t *testing.T, p *labPath, sc scenario) func() {
	t.Helper()
	var fd int
	if err := p.r.Do(func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	msg := forgedPTB(netip.MustParseAddr("10.0.1.1"), p.dst, 1300, sc.method)
	return func() {
		for i := 0; i < 3; i++ {
			unix.Sendto(fd, msg, 0, &unix.SockaddrInet4{Addr: [4]byte{10, 0, 1, 1}})
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// onceAfterFirst wraps f to run at the first progress report only.
func onceAfterFirst(f func()) func(Progress) {
	done := false
	return func(Progress) {
		if !done {
			done = true
			f()
		}
	}
}

// forgedPTB builds an ICMPv4 type 3 code 4 quoting a 1500-byte packet from
// src to dst with a wrong identifier (icmp) or wrong ports (udp).
func forgedPTB(src, dst netip.Addr, mtu int, method string) []byte {
	m := make([]byte, 8+20+8+24)
	m[0], m[1] = 3, 4
	binary.BigEndian.PutUint16(m[6:8], uint16(mtu))
	q := m[8:]
	q[0] = 0x45
	binary.BigEndian.PutUint16(q[2:4], 1500)
	q[6] = 0x40 // DF
	q[8] = 64
	s4, d4 := src.As4(), dst.As4()
	copy(q[12:16], s4[:])
	copy(q[16:20], d4[:])
	tr := q[20:]
	if method == MethodICMP {
		q[9] = protoICMP
		tr[0] = 8
		binary.BigEndian.PutUint16(tr[4:6], 0xdead)
		binary.BigEndian.PutUint16(tr[6:8], 1)
	} else {
		q[9] = protoUDP
		binary.BigEndian.PutUint16(tr[0:2], 40000)
		binary.BigEndian.PutUint16(tr[2:4], 4821)
		binary.BigEndian.PutUint16(tr[4:6], 1480)
	}
	binary.BigEndian.PutUint16(m[2:4], checksum(m))
	return m
}

// TestLabHops: client -> r1 -> r2 -> server with the bottleneck on r2's
// link to the server; --hops must name hop 2 and r2's address (the lab's
// topology is the oracle), with and without the PTB delivered.
func TestLabHops(t *testing.T) {
	netlab.Require(t, "nft")
	for _, blackhole := range []bool{false, true} {
		t.Run(fmt.Sprintf("blackhole=%v", blackhole), func(t *testing.T) {
			t.Parallel()
			lab := netlab.New(t)
			c, r1, r2, s := lab.Host("client"), lab.Host("rone"), lab.Host("rtwo"), lab.Host("server")
			lab.Link(c, r1, netlab.LinkOpts{MTU: 1500, AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24"})
			lab.Link(r1, r2, netlab.LinkOpts{MTU: 1500, AddrA: "10.0.3.1/24", AddrB: "10.0.3.2/24"})
			lab.Link(r2, s, netlab.LinkOpts{MTU: 1400, AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24"})
			r1.Forwarding(true)
			r2.Forwarding(true)
			c.Route("default", "10.0.1.2")
			r1.Route("10.0.2.0/24", "10.0.3.2")
			r2.Route("10.0.1.0/24", "10.0.3.1")
			s.Route("default", "10.0.2.1")
			if blackhole {
				r2.DropPTB()
			}
			o := Options{Addr: netip.MustParseAddr("10.0.2.2"), Timeout: 200 * time.Millisecond, Rate: 1000, Hops: true, MaxDuration: 20 * time.Second}
			var rep *Report
			var err error
			if derr := c.Do(func() error { rep, err = Run(context.Background(), o); return nil }); derr != nil {
				t.Fatal(derr)
			}
			if err != nil {
				t.Fatal(err)
			}
			h := rep.Hops
			t.Logf("pmtu %d blackhole %v ptb from %q hops %+v", rep.PMTU, rep.Blackhole, rep.PTBFrom, h)
			if rep.PMTU != 1400 || rep.Blackhole != blackhole {
				t.Fatalf("pmtu %d blackhole %v", rep.PMTU, rep.Blackhole)
			}
			if h == nil || h.PathHops != 3 || h.DropHop != 2 || h.DropRouter != "10.0.3.2" || h.Size != 1401 {
				t.Errorf("hops %+v; want path 3 hops, 1401-byte packets die after hop 2 (10.0.3.2)", h)
			}
			if !blackhole && rep.PTBFrom != "10.0.3.2" {
				t.Errorf("ptb_from %q, want r2 (10.0.3.2)", rep.PTBFrom)
			}
			var b strings.Builder
			rep.WriteText(&b)
			if want := "1401-byte packets reach hop 2 (10.0.3.2) and die on its next link; the destination is 3 hops away"; !strings.Contains(b.String(), want) {
				t.Errorf("text report lacks %q:\n%s", want, b.String())
			}
		})
	}
}

// TestLabUnprivileged runs the real binary as nobody (no capabilities) in
// the lab client: icmp through a ping socket (net.ipv4.ping_group_range),
// udp with PTBs from the error queue, both exact behind a 1400 bottleneck.
func TestLabUnprivileged(t *testing.T) {
	netlab.Require(t, "setpriv", "go")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "mtukit")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/mtukit/mtukit/cmd/mtukit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sc := scenario{mtu: 1400, method: MethodUDP}
	p := buildPath(t, sc)
	p.c.Sysctl("net.ipv4.ping_group_range", "65534 65534")
	for _, tc := range []struct{ method, dst string }{
		{MethodICMP, "10.0.2.2"}, {MethodUDP, "10.0.2.2"}, {MethodICMP, "fd02::2"}, {MethodUDP, "fd02::2"},
	} {
		method := tc.method + " " + tc.dst
		out, err := p.c.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
			bin, "probe", "--json", "--method", tc.method, "--port", strconv.Itoa(p.port), "--timeout", "200ms", "--rate", "1000", tc.dst)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		var rep Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v: %s", method, err, out)
		}
		t.Logf("%s unprivileged: pmtu %d socket %s probes %d ptb %d", method, rep.PMTU, rep.Socket, rep.ProbesSent, rep.PTBReceived)
		if rep.PMTU != 1400 || rep.Socket != SocketErrqueue || rep.PTBReceived == 0 {
			t.Errorf("%s: pmtu %d socket %q ptb %d; want 1400 through the error queue", method, rep.PMTU, rep.Socket, rep.PTBReceived)
		}
	}
}
