//go:build linux

package cli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/mss"
)

// The kernel proof: SYNs cross a Linux router that clamps, tcpdump records
// them on both sides of the router, and `mtukit clamp` run on the capture
// taken before the router must produce the capture taken after it, byte
// for byte over the whole IP packet (IP and TCP headers, options, checksums).
// The router forwards, so it decrements the TTL / hop limit (and updates the
// IPv4 header checksum); the comparison applies the same decrement to
// mtukit's output first and checks that the kernel's header checksum is the
// full recomputation. Everything else must be identical.

var (
	labClient4, labServer4 = netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.2")
	labClient6, labServer6 = netip.MustParseAddr("fd01::1"), netip.MustParseAddr("fd02::2")
)

// clampLab is client -(1500)- router -(mtu)- server with captures on both
// router interfaces.
type clampLab struct {
	lab            *netlab.Lab
	c, r, s        *netlab.Host
	ifC, ifS       string // router's interfaces toward client and server
	capC, capS     *netlab.Capture
	client, server netip.Addr
}

func newClampLab(t *testing.T, v6 bool, mtu int) *clampLab {
	t.Helper()
	l := &clampLab{lab: netlab.New(t)}
	l.c, l.r, l.s = l.lab.Host("client"), l.lab.Host("router"), l.lab.Host("server")
	lc := l.lab.Link(l.c, l.r, netlab.LinkOpts{MTU: 1500, AddrA: "10.1.0.1/24", AddrB: "10.1.0.254/24", Addr6A: "fd01::1/64", Addr6B: "fd01::fe/64"})
	ls := l.lab.Link(l.r, l.s, netlab.LinkOpts{MTU: mtu, AddrA: "10.2.0.254/24", AddrB: "10.2.0.2/24", Addr6A: "fd02::fe/64", Addr6B: "fd02::2/64"})
	l.ifC, l.ifS = lc.IfB, ls.IfA
	l.r.Forwarding(true)
	l.c.Route("default", "10.1.0.254")
	l.s.Route("default", "10.2.0.254")
	l.c.Route("default6", "fd01::fe")
	l.s.Route("default6", "fd02::fe")
	l.client, l.server = labClient4, labServer4
	if v6 {
		l.client, l.server = labClient6, labServer6
	}
	return l
}

func (l *clampLab) startCaptures() {
	l.capC = l.r.Capture(l.ifC, "tcp", "")
	l.capS = l.r.Capture(l.ifS, "tcp", "")
}

func (l *clampLab) stopCaptures(t *testing.T) {
	t.Helper()
	for _, c := range []*netlab.Capture{l.capC, l.capS} {
		if _, err := c.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// tcpOptionSysctls turns timestamps, SACK and window scaling on or off on
// client and server (the knobs apply to IPv6 too).
func (l *clampLab) tcpOptionSysctls(t *testing.T, ts, sack, ws bool) {
	t.Helper()
	b := map[bool]string{true: "1", false: "0"}
	for _, h := range []*netlab.Host{l.c, l.s} {
		for k, v := range map[string]bool{"net.ipv4.tcp_timestamps": ts, "net.ipv4.tcp_sack": sack, "net.ipv4.tcp_window_scaling": ws} {
			if err := h.SetSysctl(k, b[v]); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// craftedSYN is a SYN the client's kernel would never send, injected with a
// raw socket to reach the odd corners of the clamping code.
type craftedSYN struct {
	name    string
	opts    []layers.TCPOption
	payload []byte
}

func mssOpt(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{byte(v >> 8), byte(v)}}
}

var (
	nop = layers.TCPOption{OptionType: layers.TCPOptionKindNop}
	eol = layers.TCPOption{OptionType: layers.TCPOptionKindEndList}
	ts  = layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{0, 0, 0, 1, 0, 0, 0, 0}}
	sp  = layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted}
	ws  = layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{7}}
)

var craftedSYNs = []craftedSYN{
	{name: "no MSS option", opts: []layers.TCPOption{sp, ts, nop, ws}},
	{name: "no options at all"},
	{name: "no MSS, data on the SYN", opts: []layers.TCPOption{nop, ws}, payload: []byte("GET / HTTP/1.0\r\n\r\n")},
	{name: "unaligned MSS", opts: []layers.TCPOption{nop, mssOpt(1460), nop, nop, nop}},
	{name: "MSS after EOL", opts: []layers.TCPOption{eol, nop, nop, nop, mssOpt(1460)}},
	{name: "duplicate MSS", opts: []layers.TCPOption{mssOpt(1460), mssOpt(1440)}},
	{name: "MSS of length 5, then a good one", opts: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{5, 0xb4, 0}}, mssOpt(1460), nop, nop, nop}},
	{name: "MSS below the target", opts: []layers.TCPOption{mssOpt(536)}},
}

// sendCrafted injects the SYN from the client with a raw IP socket
// (IPPROTO_RAW: the header is ours, and Linux keeps it as given).
func (l *clampLab) sendCrafted(t *testing.T, i int, c craftedSYN) {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(41000 + i), DstPort: 9, Seq: 0x10000 * uint32(i+1), SYN: true, Window: 64240, Options: c.opts}
	var ip gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	if l.client.Is4() {
		v4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(100 + i), Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
			SrcIP: l.client.AsSlice(), DstIP: l.server.AsSlice()}
		ip, nl = v4, v4
	} else {
		v6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: l.client.AsSlice(), DstIP: l.server.AsSlice()}
		ip, nl = v6, v6
	}
	_ = tcp.SetNetworkLayerForChecksum(nl)
	sb := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(c.payload)); err != nil {
		t.Fatal(err)
	}
	pkt := sb.Bytes()
	err := l.c.Do(func() error {
		af := unix.AF_INET
		if l.client.Is6() {
			af = unix.AF_INET6
		}
		fd, err := unix.Socket(af, unix.SOCK_RAW, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if l.client.Is4() {
			return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet4{Addr: l.server.As4()})
		}
		return unix.Sendto(fd, pkt, 0, &unix.SockaddrInet6{Addr: l.server.As16()})
	})
	if err != nil {
		t.Fatalf("inject %q: %v", c.name, err)
	}
}

// labSYN is one SYN or SYN-ACK as captured on one side of the router.
type labSYN struct {
	key  string
	ip   []byte // the IP packet (to its length)
	ttl  int
	v6   bool
	file string
	idx  int // 0-based packet index in its file
}

// labSYNs returns the SYNs (SYN set, RST clear) of a capture, keyed by
// addresses, ports, sequence number and flags.
func labSYNs(t *testing.T, path string) []labSYN {
	t.Helper()
	var out []labSYN
	for i, p := range readCap(t, path).pkts {
		pkt := gopacket.NewPacket(p.data, p.link, gopacket.Default)
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil || !tl.SYN || tl.RST {
			continue
		}
		s := labSYN{file: path, idx: i}
		switch n := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			s.ip, s.ttl = append(n.Contents, n.Payload...), int(n.TTL)
		case *layers.IPv6:
			s.ip, s.ttl, s.v6 = append(n.Contents, n.Payload...), int(n.HopLimit), true
		default:
			continue
		}
		s.ip = append([]byte(nil), s.ip...)
		src, dst := pkt.NetworkLayer().NetworkFlow().Endpoints()
		s.key = fmt.Sprintf("%v:%d>%v:%d seq %d ack %v", src, tl.SrcPort, dst, tl.DstPort, tl.Seq, tl.ACK)
		out = append(out, s)
	}
	return out
}

// ipOf returns the IP packet in frame (Ethernet from a veth capture).
func ipOf(t *testing.T, frame []byte) []byte {
	t.Helper()
	pkt := gopacket.NewPacket(frame, layers.LinkTypeEthernet, gopacket.Default)
	switch n := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		return append(append([]byte(nil), n.Contents...), n.Payload...)
	case *layers.IPv6:
		return append(append([]byte(nil), n.Contents...), n.Payload...)
	}
	t.Fatal("no IP in frame")
	return nil
}

// forwarded applies what forwarding does to an IP packet: TTL or hop limit
// less one, and the IPv4 header checksum recomputed in full.
func forwarded(ip []byte) []byte {
	p := append([]byte(nil), ip...)
	if p[0]>>4 == 6 {
		p[7]--
		return p
	}
	p[8]--
	p[10], p[11] = 0, 0
	hl := int(p[0]&0x0f) * 4
	var s uint32
	for i := 0; i+1 < hl; i += 2 {
		s += uint32(p[i])<<8 | uint32(p[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(s))
	return p
}

// kernelRule installs a clamp on the router and returns mtukit's arguments
// for the same clamp (mtu is the router's egress MTU) and whether the rule
// inserts MSS options into SYNs that have none.
type kernelRule struct {
	name  string
	setup func(t *testing.T, r *netlab.Host, v6 bool, mtu int) (args []string, inserts bool)
}

func iptables(v6 bool, variant string) string {
	if v6 {
		return "ip6tables-" + variant
	}
	return "iptables-" + variant
}

var tcpmssMatch = []string{"-t", "mangle", "-A", "FORWARD", "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS"}

var kernelRules = []kernelRule{
	{
		// iptables-legacy drives the xt_TCPMSS target itself.
		name: "iptables-legacy TCPMSS --set-mss 1300",
		setup: func(t *testing.T, r *netlab.Host, v6 bool, _ int) ([]string, bool) {
			r.MustRun(append([]string{iptables(v6, "legacy")}, append(tcpmssMatch, "--set-mss", "1300")...)...)
			return []string{"--mss", "1300", "--insert"}, true
		},
	},
	{
		// The kernel takes min(egress route MTU, reverse route MTU) - 40/60:
		// 1400 (1280) both ways here.
		name: "iptables-legacy TCPMSS --clamp-mss-to-pmtu",
		setup: func(t *testing.T, r *netlab.Host, v6 bool, mtu int) ([]string, bool) {
			r.MustRun(append([]string{iptables(v6, "legacy")}, append(tcpmssMatch, "--clamp-mss-to-pmtu")...)...)
			return []string{"--mtu", fmt.Sprint(mtu), "--insert"}, true
		},
	},
	{
		// iptables over nf_tables (the Debian default) loads the same
		// xt_TCPMSS target through nft_compat, although "nft list ruleset"
		// displays it as "tcp option maxseg size set 1300"; the kernel's
		// netlink view shows what really runs.
		name: "iptables-nft TCPMSS --set-mss 1300",
		setup: func(t *testing.T, r *netlab.Host, v6 bool, _ int) ([]string, bool) {
			r.MustRun(append([]string{iptables(v6, "nft")}, append(tcpmssMatch, "--set-mss", "1300")...)...)
			if nl := r.MustRun("nft", "--debug=netlink", "list", "ruleset"); !strings.Contains(nl, "target name TCPMSS") {
				t.Fatalf("%s no longer runs the xt TCPMSS target:\n%s", iptables(v6, "nft"), nl)
			}
			return []string{"--mss", "1300", "--insert"}, true
		},
	},
	{
		name: "nft tcp option maxseg size set 1300",
		setup: func(t *testing.T, r *netlab.Host, _ bool, _ int) ([]string, bool) {
			r.NftRule(netlab.Forward, "tcp flags & (syn|rst) == syn tcp option maxseg size set 1300")
			return []string{"--mss", "1300", "--rule", "nft"}, false
		},
	},
}

// TestClampLabMatchesKernel runs each kernel rule on IPv4 (router egress MTU
// 1400) and IPv6 (1280), with real handshakes under four combinations of
// timestamps / SACK / window scaling and with crafted SYNs, and requires
// mtukit's rewrite of the "before" capture to equal the "after" capture.
func TestClampLabMatchesKernel(t *testing.T) {
	netlab.Require(t, "tcpdump", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft", "nft")
	for _, rule := range kernelRules {
		for _, v6 := range []bool{false, true} {
			mtu, fam := 1400, "ipv4"
			if v6 {
				mtu, fam = 1280, "ipv6"
			}
			t.Run(rule.name+"/"+fam, func(t *testing.T) {
				l := newClampLab(t, v6, mtu)
				args, inserts := rule.setup(t, l.r, v6, mtu)
				l.startCaptures()
				optionSets := []struct{ ts, sack, ws bool }{{true, true, true}, {false, true, true}, {true, false, false}, {false, false, false}}
				for _, o := range optionSets {
					l.tcpOptionSysctls(t, o.ts, o.sack, o.ws)
					c, s, err := netlab.TCPPair(l.c, l.s, l.server, 3*time.Second)
					if err != nil {
						t.Fatalf("handshake ts=%v sack=%v ws=%v: %v", o.ts, o.sack, o.ws, err)
					}
					c.Close()
					s.Close()
				}
				for i, syn := range craftedSYNs {
					l.sendCrafted(t, i, syn)
				}
				time.Sleep(200 * time.Millisecond) // let the crafted SYNs cross the router
				l.stopCaptures(t)
				l.compare(t, args, inserts)
			})
		}
	}
}

func (l *clampLab) compare(t *testing.T, clampArgs []string, inserts bool) {
	t.Helper()
	dir := t.TempDir()
	rewritten := map[string]string{}
	for _, cp := range []*netlab.Capture{l.capC, l.capS} {
		out := filepath.Join(dir, filepath.Base(cp.Path)+".clamped")
		args := append([]string{"clamp", "--in", cp.Path, "--out", out}, clampArgs...)
		if _, errs, code := run(t, args...); code != ExitOK {
			t.Fatalf("mtukit clamp: %s", errs)
		}
		rewritten[cp.Path] = out
	}
	byKey := map[string][]labSYN{}
	var keys []string
	for _, cp := range []*netlab.Capture{l.capC, l.capS} {
		for _, s := range labSYNs(t, cp.Path) {
			if _, ok := byKey[s.key]; !ok {
				keys = append(keys, s.key)
			}
			byKey[s.key] = append(byKey[s.key], s)
		}
	}
	outs := map[string]capFile{}
	for in, out := range rewritten {
		outs[in] = readCap(t, out)
	}
	var matched, changed, inserted, unaligned int
	for _, k := range keys {
		ss := byKey[k]
		if len(ss) != 2 || ss[0].file == ss[1].file {
			t.Errorf("%s: seen %d times; want once on each side of the router", k, len(ss))
			continue
		}
		before, after := ss[0], ss[1]
		if after.ttl > before.ttl {
			before, after = after, before
		}
		if before.ttl != after.ttl+1 {
			t.Errorf("%s: ttl %d -> %d", k, before.ttl, after.ttl)
			continue
		}
		mine := forwarded(ipOf(t, outs[before.file].pkts[before.idx].data))
		if !bytes.Equal(mine, after.ip) {
			if kernelUnalignedBug(mine, after.ip) {
				// Linux (6.18 here) updates the checksum for an MSS option at
				// an odd offset as if it were aligned, so its SYN leaves with
				// a wrong TCP checksum; mtukit's is right and every other
				// byte is the kernel's.
				unaligned++
				continue
			}
			t.Errorf("%s:\nkernel %x\nmtukit %x\nbefore %x", k, after.ip, mine, before.ip)
			continue
		}
		matched++
		if !bytes.Equal(after.ip, forwarded(before.ip)) {
			changed++
		}
		if len(after.ip) == len(before.ip)+4 {
			inserted++
		}
	}
	// 4 handshakes (SYN and SYN-ACK) and the crafted SYNs, of which two
	// carry their MSS at an odd offset: "unaligned MSS" and "MSS of length
	// 5, then a good one".
	if want := 8 + len(craftedSYNs); matched+unaligned != want || unaligned > 2 {
		t.Errorf("%d SYNs matched byte for byte, %d only but for the kernel's unaligned-MSS checksum; want %d in all", matched, unaligned, want)
	}
	if changed == 0 || (inserts != (inserted > 0)) {
		t.Errorf("%d rewritten, %d inserted: the scenario did not exercise the rule", changed, inserted)
	}
	t.Logf("%d SYNs identical to the kernel's (%d rewritten, %d with an inserted option); %d with an unaligned MSS where the kernel's TCP checksum is wrong and mtukit's right",
		matched, changed, inserted, unaligned)
}

// TestClampLabBlackHoleStory is the seeds' argument in one test. The link
// from the router to the server behaves like a tunnel whose MTU mtukit calc
// computes for 'pppoe/esp(aes-gcm-16)/gre' on a 1500-byte link: the router's
// end carries no more than the tunnel MTU, the server (behind the tunnel)
// does not know, and the router drops ICMP "packet too big". A download of
// 300 KB from the server stalls; with the MSS clamp calc recommends on the
// router, the same download completes.
func TestClampLabBlackHoleStory(t *testing.T) {
	netlab.Require(t, "nft")
	const stack = "pppoe/esp(aes-gcm-16)/gre"
	rep, err := advise.Calc(advise.Options{Stack: stack, LinkMTU: 1500, Family: encap.IPv4})
	if err != nil {
		t.Fatal(err)
	}
	tunnelMTU, clampMSS := rep.TunnelMTU, rep.MSS.IPv4
	if tunnelMTU >= 1500 || clampMSS != tunnelMTU-40 {
		t.Fatalf("calc: tunnel MTU %d, MSS %d", tunnelMTU, clampMSS)
	}

	l := newClampLab(t, false, 1500)
	l.r.SetMTU(l.ifS, tunnelMTU) // the router's side of the "tunnel"
	l.r.DropPTB()
	if err := l.s.SetSysctl("net.ipv4.tcp_mtu_probing", "0"); err != nil {
		t.Fatal(err)
	}

	body := bytes.Repeat([]byte("mtukit black hole story 0123456789abcdef\n"), 300*1024/41)
	var ln net.Listener
	if err := l.s.Do(func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(labServer4, 8080).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serveBody(ln, body)

	n, err := download(l.c, 3*time.Second)
	if err == nil || n >= len(body) {
		t.Fatalf("without a clamp: %d of %d bytes, err %v; want a stall", n, len(body), err)
	}
	t.Logf("without a clamp: stalled after %d of %d bytes (%v)", n, len(body), err)

	l.r.NftRule(netlab.Forward, fmt.Sprintf("tcp flags & (syn|rst) == syn tcp option maxseg size set %d", clampMSS))
	n, err = download(l.c, 3*time.Second)
	if err != nil || n != len(body) {
		t.Fatalf("with MSS clamped to %d: %d of %d bytes, err %v", clampMSS, n, len(body), err)
	}
	t.Logf("with the clamp calc recommends (MSS %d for tunnel MTU %d): all %d bytes", clampMSS, tunnelMTU, n)
}

// serveBody answers each connection on ln with a minimal HTTP/1.0 response
// carrying body.
func serveBody(ln net.Listener, body []byte) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				return
			}
			fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", len(body))
			_, _ = c.Write(body)
		}()
	}
}

// download fetches the body from the server within timeout and returns how
// many body bytes arrived.
func download(client *netlab.Host, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	var conn net.Conn
	if err := client.Do(func() (err error) {
		d := net.Dialer{Deadline: deadline}
		conn, err = d.Dial("tcp", netip.AddrPortFrom(labServer4, 8080).String())
		return err
	}); err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("GET /download HTTP/1.0\r\nHost: server\r\n\r\n")); err != nil {
		return 0, err
	}
	var got bytes.Buffer
	_, err := got.ReadFrom(conn)
	head, rest, ok := bytes.Cut(got.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		return 0, fmt.Errorf("no response header in %d bytes: %v", got.Len(), err)
	}
	if !strings.HasPrefix(string(head), "HTTP/1.0 200") {
		return 0, fmt.Errorf("response %q", head)
	}
	return len(rest), err
}

// kernelUnalignedBug reports whether the kernel's packet differs from
// mtukit's only in the TCP checksum, with the kernel's wrong and mtukit's
// right by a full recomputation, for an MSS option at an odd offset.
func kernelUnalignedBug(mine, kernel []byte) bool {
	if len(mine) != len(kernel) {
		return false
	}
	l4 := 40
	if mine[0]>>4 == 4 {
		l4 = int(mine[0]&0x0f) * 4
	}
	var diff []int
	for i := range mine {
		if mine[i] != kernel[i] {
			diff = append(diff, i)
		}
	}
	for _, i := range diff {
		if i != l4+16 && i != l4+17 {
			return false
		}
	}
	s, err := mss.Summarize(mine[l4:])
	if err != nil || s.MSSOffset%2 == 0 {
		return false
	}
	return ipTCPChecksumOK(mine) && !ipTCPChecksumOK(kernel)
}

// ipTCPChecksumOK checks the TCP checksum of an IP packet in full, with
// gopacket.
func ipTCPChecksumOK(ip []byte) bool {
	first := gopacket.Decoder(layers.LayerTypeIPv4)
	if ip[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	pkt := gopacket.NewPacket(ip, first, gopacket.Default)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if tcp == nil {
		return false
	}
	_ = tcp.SetNetworkLayerForChecksum(pkt.NetworkLayer())
	ck, err := tcp.ComputeChecksum()
	return err == nil && ck == 0
}
