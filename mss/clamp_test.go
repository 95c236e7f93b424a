package mss

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/mtukit/mtukit/encap"
)

// The oracle for every rewrite in this file is a packet built from scratch
// with the expected options and its checksums computed in full by gopacket
// (an independent implementation of RFC 1071 and the pseudo-headers): the
// clamper's incremental (RFC 1624) result must equal it byte for byte.

var (
	src4 = net.IP{192, 0, 2, 1}
	dst4 = net.IP{198, 51, 100, 2}
	src6 = net.ParseIP("2001:db8::1")
	dst6 = net.ParseIP("2001:db8:ffff::2")
)

// mkIP builds an IP packet of family f carrying a TCP segment with the given
// flags, raw option bytes and payload, with correct IP and TCP checksums.
func mkIP(t testing.TB, f encap.Family, flags byte, opts, payload []byte) []byte {
	t.Helper()
	seg := tcpSeg(flags, opts, payload)
	buf := gopacket.NewSerializeBuffer()
	so := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if f == encap.IPv4 {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x4d2, Flags: layers.IPv4DontFragment,
			Protocol: layers.IPProtocolTCP, SrcIP: src4, DstIP: dst4}
		err = gopacket.SerializeLayers(buf, so, ip, gopacket.Payload(seg))
	} else {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, FlowLabel: 0x12345, SrcIP: src6, DstIP: dst6}
		err = gopacket.SerializeLayers(buf, so, ip, gopacket.Payload(seg))
	}
	if err != nil {
		t.Fatal(err)
	}
	pkt := slices.Clip(append([]byte(nil), buf.Bytes()...))
	setTCPChecksum(t, pkt, layers.LayerTypeIPv4)
	return pkt
}

// setTCPChecksum computes the TCP checksum of the packet in full with
// gopacket and stores it.
func setTCPChecksum(t testing.TB, pkt []byte, first gopacket.Decoder) {
	t.Helper()
	if pkt[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	tcp, _ := decodeTCP(pkt, first)
	if tcp == nil {
		t.Fatal("no tcp layer in built packet")
	}
	tcp.Contents[16], tcp.Contents[17] = 0, 0
	ck, err := tcp.ComputeChecksum()
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint16(tcp.Contents[16:], ck)
}

// decodeTCP decodes pkt with gopacket (no copy, so layers alias pkt) and
// returns the TCP layer with its network layer set for checksumming.
func decodeTCP(pkt []byte, first gopacket.Decoder) (*layers.TCP, gopacket.Packet) {
	p := gopacket.NewPacket(pkt, first, gopacket.DecodeOptions{NoCopy: true})
	var net gopacket.NetworkLayer
	for _, l := range p.Layers() {
		switch v := l.(type) {
		case *layers.IPv4:
			net = v
		case *layers.IPv6:
			net = v
		case *layers.TCP:
			if net == nil {
				return nil, p
			}
			_ = v.SetNetworkLayerForChecksum(net)
			return v, p
		}
	}
	return nil, p
}

// tcpChecksumOK reports whether the TCP checksum of pkt is right, by
// gopacket's full computation: the sum over pseudo-header and segment,
// checksum included, folds to zero.
func tcpChecksumOK(t testing.TB, pkt []byte, first gopacket.Decoder) bool {
	t.Helper()
	if first == layers.LayerTypeIPv4 && len(pkt) > 0 && pkt[0]>>4 == 6 {
		first = layers.LayerTypeIPv6
	}
	if first == layers.LayerTypeIPv4 && len(pkt) > 20 && pkt[6]&0x20 != 0 {
		// gopacket leaves fragments undecoded; the TCP checksum does not
		// cover the IP header, so check an unfragmented copy.
		pkt = append([]byte(nil), pkt...)
		pkt[6] &^= 0x20
	}
	tcp, _ := decodeTCP(pkt, first)
	if tcp == nil {
		t.Fatal("no tcp layer")
	}
	ck, err := tcp.ComputeChecksum()
	if err != nil {
		t.Fatal(err)
	}
	return ck == 0
}

// framing describes the link layer a test wraps an IP packet in.
type framing struct {
	name    string
	fr      Framing
	tags    []uint16 // 802.1Q / 802.1ad TPIDs, outermost first
	pppoe   bool
	trailer int // Ethernet padding after the IP packet
}

var framings = []framing{
	{name: "raw ip", fr: FrameIP},
	{name: "ethernet", fr: FrameEthernet},
	{name: "ethernet padded", fr: FrameEthernet, trailer: 6},
	{name: "vlan", fr: FrameEthernet, tags: []uint16{0x8100}},
	{name: "qinq", fr: FrameEthernet, tags: []uint16{0x88a8, 0x8100}},
	{name: "pppoe", fr: FrameEthernet, pppoe: true},
	{name: "pppoe over qinq", fr: FrameEthernet, tags: []uint16{0x88a8, 0x8100}, pppoe: true},
	{name: "linux sll", fr: FrameLinuxSLL},
	{name: "linux sll2", fr: FrameLinuxSLL2},
	{name: "bsd null", fr: FrameNull},
	{name: "ppp", fr: FramePPP},
}

// wrap puts ip into the link layer of fm.
func (fm framing) wrap(ip []byte) []byte {
	v6 := ip[0]>>4 == 6
	var b []byte
	switch fm.fr {
	case FrameIP:
	case FrameEthernet:
		b = append(b, 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2)
		for _, tpid := range fm.tags {
			b = binary.BigEndian.AppendUint16(b, tpid)
			b = binary.BigEndian.AppendUint16(b, 100)
		}
		switch {
		case fm.pppoe:
			b = binary.BigEndian.AppendUint16(b, 0x8864)
			b = append(b, 0x11, 0, 0x12, 0x34)
			b = binary.BigEndian.AppendUint16(b, uint16(len(ip)+2))
			if v6 {
				b = append(b, 0x00, 0x57)
			} else {
				b = append(b, 0x00, 0x21)
			}
		case v6:
			b = append(b, 0x86, 0xdd)
		default:
			b = append(b, 0x08, 0x00)
		}
	case FrameLinuxSLL:
		b = append(b, 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
		if v6 {
			b = append(b, 0x86, 0xdd)
		} else {
			b = append(b, 0x08, 0x00)
		}
	case FrameLinuxSLL2:
		if v6 {
			b = append(b, 0x86, 0xdd)
		} else {
			b = append(b, 0x08, 0x00)
		}
		b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 0, 4, 6, 2, 0, 0, 0, 0, 1, 0)
	case FrameNull:
		if v6 {
			b = append(b, 30, 0, 0, 0)
		} else {
			b = append(b, 2, 0, 0, 0)
		}
	case FramePPP:
		b = append(b, 0xff, 0x03, 0x00, 0x21)
		if v6 {
			b[3] = 0x57
		}
	}
	b = append(b, ip...)
	return append(b, make([]byte, fm.trailer)...)
}

func (fm framing) decoder() gopacket.Decoder {
	switch fm.fr {
	case FrameEthernet:
		return layers.LayerTypeEthernet
	case FrameLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case FrameLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case FrameNull:
		return layers.LayerTypeLoopback
	case FramePPP:
		return layers.LayerTypePPP
	}
	return layers.LayerTypeIPv4 // for raw IP, setTCPChecksum and friends switch on the version
}

// withCap returns a copy of b with spare capacity n.
func withCap(b []byte, n int) []byte {
	return append(make([]byte, 0, len(b)+n), b...)
}

var (
	optsLinux  = linuxSYN                                                                              // MSS 1460, SACK-perm, TS, NOP, WS
	optsMSS    = []byte{2, 4, 0x05, 0xb4}                                                              // MSS 1460 only
	optsMSSWS  = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7}                                                  // MSS, NOP, WS (no timestamps)
	optsBSD    = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 4, 2, 0, 0} // macOS order
	optsNoMSS  = []byte{4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7}
	optsNone   = []byte{}
	optionSets = []struct {
		name string
		opts []byte
	}{{"linux", optsLinux}, {"mss only", optsMSS}, {"mss+ws", optsMSSWS}, {"bsd order", optsBSD}}
)

// replaceMSS returns opts with the 16-bit value at byte off replaced.
func replaceMSS(opts []byte, off int, v uint16) []byte {
	o := append([]byte(nil), opts...)
	binary.BigEndian.PutUint16(o[off:], v)
	return o
}

// TestClampMatchesFullRecomputation clamps SYN and SYN-ACK segments in every
// framing and family with several option layouts, and compares the result
// byte for byte with the same packet built from scratch with the lower MSS.
func TestClampMatchesFullRecomputation(t *testing.T) {
	for _, fm := range framings {
		for _, f := range []encap.Family{encap.IPv4, encap.IPv6} {
			for _, os := range optionSets {
				for _, flags := range []byte{FlagSYN, FlagSYN | FlagACK} {
					name := fmt.Sprintf("%s/%s/%s/flags=%#x", fm.name, f, os.name, flags)
					t.Run(name, func(t *testing.T) {
						for _, tgt := range []int{1400, 1360, 1220, 536, 88, 1} {
							in := fm.wrap(mkIP(t, f, flags, os.opts, nil))
							want := fm.wrap(mkIP(t, f, flags, replaceMSS(os.opts, 2, uint16(tgt)), nil))
							c := Clamper{Target: mustMSS(t, tgt)}
							got, res := c.Clamp(in, fm.fr)
							if res.Action != ActionClamped || res.OldMSS != 1460 || res.NewMSS != uint16(tgt) || res.Family != f {
								t.Fatalf("target %d: result %+v", tgt, res)
							}
							if !bytes.Equal(got, want) {
								t.Fatalf("target %d:\n got %x\nwant %x", tgt, got, want)
							}
						}
					})
				}
			}
		}
	}
}

func mustMSS(t testing.TB, n int) Target {
	t.Helper()
	tg, err := MSSTarget(n)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func mustMTU(t testing.TB, n int) Target {
	t.Helper()
	tg, err := MTUTarget(n)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestClampInsertMatchesFullRecomputation: a SYN without an MSS option gets
// one in front of its options, exactly as if it had been built with it.
func TestClampInsertMatchesFullRecomputation(t *testing.T) {
	for _, fm := range framings {
		for _, f := range []encap.Family{encap.IPv4, encap.IPv6} {
			for _, opts := range [][]byte{optsNoMSS, optsNone, {1, 3, 3, 7}} {
				for _, tgt := range []int{1400, 1000, 500} {
					name := fmt.Sprintf("%s/%s/%d option bytes/target %d", fm.name, f, len(opts), tgt)
					t.Run(name, func(t *testing.T) {
						// xt_TCPMSS inserts min(target, 536 / 1220).
						v := uint16(min(tgt, DefaultSendMSS(f)))
						in := withCap(fm.wrap(mkIP(t, f, FlagSYN, opts, nil)), 4)
						want := fm.wrap(mkIP(t, f, FlagSYN, append(AppendMSS(nil, v), opts...), nil))
						c := Clamper{Target: mustMSS(t, tgt), Insert: true}
						got, res := c.Clamp(in, fm.fr)
						if res.Action != ActionInserted || res.OldMSS != 0 || res.NewMSS != v {
							t.Fatalf("result %+v", res)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("\n got %x\nwant %x", got, want)
						}
					})
				}
			}
		}
	}
}

// TestClampMTUTarget: an MTU target is MTU-40 for IPv4 and MTU-60 for IPv6,
// like --clamp-mss-to-pmtu.
func TestClampMTUTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    encap.Family
		mtu  int
		want uint16
	}{
		{"ipv4 1400", encap.IPv4, 1400, 1360},
		{"ipv6 1400", encap.IPv6, 1400, 1340},
		{"ipv6 1280", encap.IPv6, 1280, 1220},
		{"ipv4 pppoe 1492", encap.IPv4, 1492, 1452},
		{"ipv4 1500 leaves 1460", encap.IPv4, 1500, 1460},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := mustMTU(t, tc.mtu)
			if got := tg.MSS(tc.f); got != tc.want {
				t.Fatalf("MSS = %d, want %d", got, tc.want)
			}
			c := Clamper{Target: tg}
			_, res := c.Clamp(mkIP(t, tc.f, FlagSYN, optsLinux, nil), FrameIP)
			wantAction := ActionClamped
			if tc.want >= 1460 {
				wantAction = ActionUnchanged
			}
			if res.Action != wantAction || res.Target != tc.want {
				t.Fatalf("result %+v", res)
			}
		})
	}
	if tg := mustMTU(t, 70000); tg.MSS(encap.IPv6) != 65535 {
		t.Fatal("MSS of a 70000 MTU not capped at 65535")
	}
	for _, bad := range []int{0, 67, -1} {
		if _, err := MTUTarget(bad); err == nil {
			t.Errorf("MTUTarget(%d) accepted", bad)
		}
	}
	for _, bad := range []int{0, 65536, -5} {
		if _, err := MSSTarget(bad); err == nil {
			t.Errorf("MSSTarget(%d) accepted", bad)
		}
	}
}

// TestClampCases covers every decision of the clamper by name. Where the
// packet is rewritten, the result must carry a valid checksum and differ
// from the input only in the MSS value and the checksum.
func TestClampCases(t *testing.T) {
	v4, v6 := encap.IPv4, encap.IPv6
	type tc struct {
		name   string
		pkt    []byte
		fr     Framing
		c      Clamper
		action Action
		reason Reason
		oldMSS uint16
		newMSS uint16
	}
	mss1200 := mustMSS(t, 1200)
	iptables := Clamper{Target: mss1200, Insert: true}
	nft := Clamper{Target: mss1200, Rule: RuleNFT}
	frag := func(p []byte, off uint16, mf bool) []byte {
		v := off / 8
		if mf {
			v |= 0x2000
		}
		binary.BigEndian.PutUint16(p[6:], v)
		binary.BigEndian.PutUint16(p[10:], 0)
		binary.BigEndian.PutUint16(p[10:], Checksum4(p[:20]))
		return p
	}
	cases := []tc{
		{"ACK passes", mkIP(t, v4, FlagACK, optsMSS, nil), FrameIP, iptables, ActionPass, ReasonNotSYN, 0, 0},
		{"SYN+RST passes", mkIP(t, v4, FlagSYN|FlagRST, optsMSS, nil), FrameIP, iptables, ActionPass, ReasonNotSYN, 0, 0},
		{"SYN+FIN is clamped like the kernel", mkIP(t, v4, FlagSYN|FlagFIN, optsMSS, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"MSS at target is not touched", mkIP(t, v4, FlagSYN, replaceMSS(optsMSS, 2, 1200), nil), FrameIP, iptables, ActionUnchanged, ReasonNotAbove, 1200, 1200},
		{"MSS below target is never raised", mkIP(t, v6, FlagSYN, replaceMSS(optsMSS, 2, 536), nil), FrameIP, iptables, ActionUnchanged, ReasonNotAbove, 536, 536},
		{"no MSS and insertion off", mkIP(t, v4, FlagSYN, optsNoMSS, nil), FrameIP, Clamper{Target: mss1200}, ActionUnchanged, ReasonNoMSS, 0, 0},
		{"nft never inserts", withCap(mkIP(t, v4, FlagSYN, optsNoMSS, nil), 4), FrameIP, nft, ActionUnchanged, ReasonNoMSS, 0, 0},
		{"no MSS, SYN with data (TFO)", withCap(mkIP(t, v4, FlagSYN, optsNoMSS, []byte("GET /")), 4), FrameIP, iptables, ActionUnchanged, ReasonPayload, 0, 0},
		{"no MSS, header already 60 bytes", withCap(mkIP(t, v4, FlagSYN, bytes.Repeat([]byte{1}, 40), nil), 4), FrameIP, iptables, ActionUnchanged, ReasonHeaderFull, 0, 0},
		{"no MSS, no spare capacity", mkIP(t, v4, FlagSYN, optsNoMSS, nil), FrameIP, iptables, ActionUnchanged, ReasonNoRoom, 0, 0},
		{"no MSS, first fragment", withCap(frag(mkIP(t, v4, FlagSYN, optsNoMSS, nil), 0, true), 4), FrameIP, iptables, ActionUnchanged, ReasonFragmented, 0, 0},
		{"MSS in a first fragment is clamped", frag(mkIP(t, v4, FlagSYN, optsLinux, nil), 0, true), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"later fragment passes", frag(mkIP(t, v4, FlagSYN, optsLinux, nil), 8, false), FrameIP, iptables, ActionPass, ReasonFragment, 0, 0},
		{"unaligned MSS after a NOP", mkIP(t, v4, FlagSYN, []byte{1, 2, 4, 5, 0xb4, 1, 1, 1}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"unaligned MSS, ipv6, three NOPs", mkIP(t, v6, FlagSYN, []byte{1, 1, 1, 2, 4, 0xff, 0xff, 0}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 65535, 1200},
		{"only the first of two MSS options", mkIP(t, v4, FlagSYN, []byte{2, 4, 5, 0xb4, 2, 4, 5, 0xb4}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"MSS after EOL is clamped as the kernel walks past EOL", mkIP(t, v4, FlagSYN, []byte{0, 0, 0, 0, 2, 4, 5, 0xb4}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"tcpmss skips an MSS of length 5 and inserts", withCap(mkIP(t, v4, FlagSYN, []byte{2, 5, 5, 0xb4, 0}, nil), 4), FrameIP, iptables, ActionInserted, ReasonAdded, 0, 536},
		{"tcpmss skips an MSS of length 5, finds the next", mkIP(t, v4, FlagSYN, []byte{2, 5, 5, 0xb4, 0, 2, 4, 5, 0xb4}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"nft rewrites an MSS of length 5", mkIP(t, v4, FlagSYN, []byte{2, 5, 5, 0xb4, 0}, nil), FrameIP, nft, ActionClamped, ReasonLowered, 1460, 1200},
		{"nft stops at an MSS of length 3", mkIP(t, v4, FlagSYN, []byte{2, 3, 5, 2, 4, 5, 0xb4, 0}, nil), FrameIP, nft, ActionUnchanged, ReasonMalformedMSS, 0, 0},
		{"tcpmss steps over zero lengths", mkIP(t, v4, FlagSYN, []byte{9, 0, 2, 4, 5, 0xb4}, nil), FrameIP, iptables, ActionClamped, ReasonLowered, 1460, 1200},
		{"nft clamps ipv6", mkIP(t, v6, FlagSYN|FlagACK, optsLinux, nil), FrameIP, nft, ActionClamped, ReasonLowered, 1460, 1200},
		{"not ip: arp", append(bytes.Repeat([]byte{0xff}, 12), 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1), FrameEthernet, iptables, ActionPass, ReasonNotIP, 0, 0},
		{"not tcp: udp", func() []byte { p := mkIP(t, v4, FlagSYN, optsMSS, nil); p[9] = 17; return p }(), FrameIP, iptables, ActionPass, ReasonNotTCP, 0, 0},
		{"ipv6 no next header", func() []byte { p := mkIP(t, v6, FlagSYN, optsMSS, nil); p[6] = 59; return p }(), FrameIP, iptables, ActionPass, ReasonNotTCP, 0, 0},
		{"truncated ip header", mkIP(t, v4, FlagSYN, optsMSS, nil)[:19], FrameIP, iptables, ActionUnparsed, ReasonShort, 0, 0},
		{"truncated tcp header", mkIP(t, v4, FlagSYN, optsMSS, nil)[:30], FrameIP, iptables, ActionUnparsed, ReasonShort, 0, 0},
		{"capture cut inside the options", mkIP(t, v4, FlagSYN, optsLinux, nil)[:50], FrameIP, iptables, ActionUnparsed, ReasonShort, 0, 0},
		{"data offset 4", func() []byte { p := mkIP(t, v4, FlagSYN, optsMSS, nil); p[32] = 4 << 4; return p }(), FrameIP, iptables, ActionUnparsed, ReasonBadHeader, 0, 0},
		{"data offset past the ip length", func() []byte { p := mkIP(t, v4, FlagSYN, optsMSS, nil); p[32] = 15 << 4; return p }(), FrameIP, iptables, ActionUnparsed, ReasonBadHeader, 0, 0},
		{"ihl 4", func() []byte { p := mkIP(t, v4, FlagSYN, optsMSS, nil); p[0] = 0x44; return p }(), FrameIP, iptables, ActionUnparsed, ReasonBadHeader, 0, 0},
		{"ipv4 ethertype with a version 6 header", func() []byte {
			return append([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 8, 0}, mkIP(t, v6, FlagSYN, optsMSS, nil)...)
		}(), FrameEthernet, iptables, ActionUnparsed, ReasonBadHeader, 0, 0},
		{"empty buffer", nil, FrameEthernet, iptables, ActionUnparsed, ReasonShort, 0, 0},
		{"not ip version", []byte{0x55, 1, 2, 3}, FrameIP, iptables, ActionPass, ReasonNotIP, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append(make([]byte, 0, cap(c.pkt)), c.pkt...)
			okBefore := c.action == ActionClamped || c.action == ActionInserted
			got, res := c.c.Clamp(in, c.fr)
			if res.Action != c.action || res.Reason != c.reason || res.OldMSS != c.oldMSS || res.NewMSS != c.newMSS {
				t.Fatalf("got %v/%v %d->%d, want %v/%v %d->%d", res.Action, res.Reason, res.OldMSS, res.NewMSS, c.action, c.reason, c.oldMSS, c.newMSS)
			}
			switch res.Action {
			case ActionClamped:
				if !tcpChecksumOK(t, got, layers.LayerTypeIPv4) {
					t.Fatal("bad tcp checksum after clamping")
				}
				diff := 0
				for i := range got {
					if got[i] != c.pkt[i] {
						diff++
					}
				}
				if len(got) != len(c.pkt) || diff > 4 {
					t.Fatalf("%d bytes changed (MSS and checksum are 4)", diff)
				}
			case ActionInserted:
				if len(got) != len(c.pkt)+4 || !tcpChecksumOK(t, got, layers.LayerTypeIPv4) {
					t.Fatal("inserted packet: bad length or checksum")
				}
			default:
				if !bytes.Equal(got, c.pkt) {
					t.Fatal("packet changed")
				}
			}
			_ = okBefore
		})
	}
}

// Checksum4 is the IPv4 header checksum of hdr (checksum field zero), for
// building test packets.
func Checksum4(hdr []byte) uint16 { return ^fold(sum16(0, hdr)) }

// TestClampKeepsWrongChecksumsWrong: a SYN whose checksum was wrong (as in
// captures taken before checksum offload) keeps exactly the same error, as
// the kernel's incremental update does; a right one stays right.
func TestClampKeepsWrongChecksumsWrong(t *testing.T) {
	good := mkIP(t, encap.IPv4, FlagSYN, optsLinux, nil)
	want := mkIP(t, encap.IPv4, FlagSYN, replaceMSS(optsLinux, 2, 1300), nil)
	for _, delta := range []uint16{1, 0x100, 0x7fff, 0xfffe} {
		in := append([]byte(nil), good...)
		ck := binary.BigEndian.Uint16(in[36:])
		binary.BigEndian.PutUint16(in[36:], ck+delta)
		c := Clamper{Target: mustMSS(t, 1300)}
		got, _ := c.Clamp(in, FrameIP)
		if d := binary.BigEndian.Uint16(got[36:]) - binary.BigEndian.Uint16(want[36:]); d != delta && delta != 0xfffe {
			t.Errorf("delta %#x became %#x", delta, d)
		}
		if tcpChecksumOK(t, got, layers.LayerTypeIPv4) {
			t.Errorf("delta %#x: a wrong checksum became right", delta)
		}
	}
}

func TestClampZeroAlloc(t *testing.T) {
	syn := (framing{fr: FrameEthernet, tags: []uint16{0x8100}}).wrap(mkIP(t, encap.IPv6, FlagSYN, optsLinux, nil))
	noMSS := (framing{fr: FrameEthernet}).wrap(mkIP(t, encap.IPv4, FlagSYN, optsNoMSS, nil))
	ack := (framing{fr: FrameEthernet}).wrap(mkIP(t, encap.IPv4, FlagACK, nil, []byte("data")))
	buf := make([]byte, 0, 256)
	c := Clamper{Target: mustMTU(t, 1400), Insert: true}
	for _, tc := range []struct {
		name string
		pkt  []byte
		want Action
	}{{"clamp", syn, ActionClamped}, {"insert", noMSS, ActionInserted}, {"pass", ack, ActionPass}} {
		var last Result
		allocs := testing.AllocsPerRun(1000, func() {
			buf = append(buf[:0], tc.pkt...)
			_, last = c.Clamp(buf, FrameEthernet)
		})
		if allocs != 0 || last.Action != tc.want {
			t.Errorf("%s: %.1f allocs per packet, action %v", tc.name, allocs, last.Action)
		}
	}
}

// BenchmarkClamp measures ns per packet:
//
//	go test ./mss -run '^$' -bench Clamp -benchtime=2s
func BenchmarkClamp(b *testing.B) {
	for _, bc := range []struct {
		name string
		pkt  []byte
		fr   Framing
	}{
		{"SYN/ipv4/ethernet", (framing{fr: FrameEthernet}).wrap(mkIP(b, encap.IPv4, FlagSYN, optsLinux, nil)), FrameEthernet},
		{"SYN/ipv6/qinq", (framing{fr: FrameEthernet, tags: []uint16{0x88a8, 0x8100}}).wrap(mkIP(b, encap.IPv6, FlagSYN, optsLinux, nil)), FrameEthernet},
		{"SYN/ipv4/pppoe", (framing{fr: FrameEthernet, pppoe: true}).wrap(mkIP(b, encap.IPv4, FlagSYN, optsLinux, nil)), FrameEthernet},
		{"SYN-insert/ipv4/ethernet", (framing{fr: FrameEthernet}).wrap(mkIP(b, encap.IPv4, FlagSYN, optsNoMSS, nil)), FrameEthernet},
		{"ACK/ipv4/ethernet", (framing{fr: FrameEthernet}).wrap(mkIP(b, encap.IPv4, FlagACK, optsNone, make([]byte, 1400))), FrameEthernet},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := Clamper{Target: mustMSS(b, 1200), Insert: true}
			buf := make([]byte, 0, len(bc.pkt)+4)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.pkt)))
			for b.Loop() {
				buf = append(buf[:0], bc.pkt...)
				c.Clamp(buf, bc.fr)
			}
		})
	}
}

// FuzzClamp feeds arbitrary packets to the clamper in every framing. It must
// never panic; a packet it does not rewrite must come back untouched; a
// rewrite must keep a right checksum right (gopacket recomputes it in full),
// change at most the MSS value and the checksum (or grow by exactly the 4
// bytes of an inserted option), and a second pass must leave it alone.
func FuzzClamp(f *testing.F) {
	add := func(fm framing, pkt []byte) { f.Add(fm.wrap(pkt), uint8(fm.fr), uint16(1200), true, false) }
	// Seeds: a Linux IPv4 SYN on Ethernet; an IPv6 SYN-ACK in QinQ; PPPoE;
	// a SYN without MSS (insertion); an unaligned MSS; a SYN cut inside its
	// options; SLL and PPP framings; a non-SYN with data.
	add(framing{fr: FrameEthernet}, mkIP(f, encap.IPv4, FlagSYN, optsLinux, nil))
	add(framing{fr: FrameEthernet, tags: []uint16{0x88a8, 0x8100}}, mkIP(f, encap.IPv6, FlagSYN|FlagACK, optsLinux, nil))
	add(framing{fr: FrameEthernet, pppoe: true}, mkIP(f, encap.IPv4, FlagSYN, optsBSD, nil))
	add(framing{fr: FrameIP}, mkIP(f, encap.IPv6, FlagSYN, optsNoMSS, nil))
	add(framing{fr: FrameIP}, mkIP(f, encap.IPv4, FlagSYN, []byte{1, 2, 4, 5, 0xb4, 1, 1, 1}, nil))
	add(framing{fr: FrameEthernet}, mkIP(f, encap.IPv4, FlagSYN, optsLinux, nil)[:45])
	add(framing{fr: FrameLinuxSLL}, mkIP(f, encap.IPv4, FlagSYN, optsMSSWS, nil))
	add(framing{fr: FramePPP}, mkIP(f, encap.IPv6, FlagSYN, optsMSS, nil))
	add(framing{fr: FrameEthernet}, mkIP(f, encap.IPv4, FlagACK, nil, []byte("hello")))
	// the framings of the shared locator: NFLOG with a padded TLV, PPP with
	// PFC, Cisco HDLC, IPoIB, ARCNET (RFC 1201)
	raw := func(fr Framing, hdr []byte, pkt []byte) {
		f.Add(append(append([]byte{}, hdr...), pkt...), uint8(fr), uint16(1200), true, false)
	}
	syn4 := mkIP(f, encap.IPv4, FlagSYN, optsLinux, nil)
	raw(FrameNFLOG, []byte{2, 0, 0, 1, 5, 0, 10, 0, 'x', 0, 0, 0, byte(4 + len(syn4)), 0, 9, 0}, syn4)
	raw(FramePPP, []byte{0x21}, syn4)
	raw(FrameCHDLC, []byte{0x0f, 0, 8, 0}, syn4)
	raw(FrameIPoIB, append(make([]byte, 40), 8, 0, 0, 0), syn4)
	raw(FrameARCNET, []byte{1, 2, 0, 0, 212, 0, 0, 0}, syn4)
	f.Fuzz(func(t *testing.T, pkt []byte, fr uint8, target uint16, insert, nft bool) {
		fm := Framing(fr % uint8(numFramings))
		if target == 0 {
			target = 1
		}
		c := Clamper{Target: Target{n: int(target)}, Insert: insert && !nft}
		if nft {
			c.Rule = RuleNFT
		}
		in := withCap(pkt, 4)
		got, res := c.Clamp(in, fm)
		switch res.Action {
		case ActionClamped:
			if len(got) != len(pkt) || res.NewMSS != target || res.OldMSS <= target {
				t.Fatalf("clamped %d->%d to target %d, length %d->%d", res.OldMSS, res.NewMSS, target, len(pkt), len(got))
			}
			diff := 0
			for i := range got {
				if got[i] != pkt[i] {
					diff++
				}
			}
			if diff > 4 {
				t.Fatalf("%d bytes changed", diff)
			}
		case ActionInserted:
			if len(got) != len(pkt)+4 || res.NewMSS > target || res.OldMSS != 0 {
				t.Fatalf("inserted %d, target %d, length %d->%d", res.NewMSS, target, len(pkt), len(got))
			}
		default:
			if !bytes.Equal(got, pkt) {
				t.Fatalf("%v/%v changed the packet", res.Action, res.Reason)
			}
			return
		}
		dec := (framing{fr: fm}).decoder()
		if okBefore, known := checksumStateDec(pkt, dec); known && okBefore {
			if okAfter, _ := checksumStateDec(got, dec); !okAfter {
				t.Fatalf("%v broke a right checksum", res.Action)
			}
		}
		again, res2 := c.Clamp(withCap(got, 4), fm)
		if res2.Action != ActionUnchanged || !bytes.Equal(again, got) {
			t.Fatalf("second pass: %v/%v", res2.Action, res2.Reason)
		}
	})
}

func checksumStateDec(pkt []byte, dec gopacket.Decoder) (ok, known bool) {
	if dec == layers.LayerTypeIPv4 && len(pkt) > 0 && pkt[0]>>4 == 6 {
		dec = layers.LayerTypeIPv6
	}
	tcp, p := decodeTCP(pkt, dec)
	if tcp == nil || p.ErrorLayer() != nil || p.Metadata().Truncated {
		return false, false
	}
	if ip, isV4 := p.NetworkLayer().(*layers.IPv4); isV4 && (ip.Length == 0 || ip.Flags&layers.IPv4MoreFragments != 0) {
		return false, false
	}
	ck, err := tcp.ComputeChecksum()
	return err == nil && ck == 0, err == nil
}
