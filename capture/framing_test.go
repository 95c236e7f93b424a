package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/mss"
)

// framingCase is one framing a real capture uses: a link header (or outer
// headers) written by hand around a TCP SYN, the stack mtukit names it by,
// and whether a clamp on the link (one that sees the IP packet directly)
// rewrites the SYN.
type framingCase struct {
	name  string
	link  layers.LinkType
	frame func(ip []byte) []byte // the frame around the IP packet
	v6    bool                   // the SYN is IPv6
	stack string                 // mtukit's stack
	clamp bool                   // the clamp rewrites it (false: tunnelled or integrity-protected)
	notIP bool                   // neither tshark nor mtukit finds IP in it
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

var (
	ethHdr   = func(et uint16) []byte { return cat([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}, be16(et)) }
	pppoeHdr = func(ppp, ip []byte) []byte {
		return cat([]byte{0x11, 0, 0x12, 0x34}, be16(uint16(len(ppp)+len(ip))), ppp)
	}
	sllHdr = func(hatype, proto uint16) []byte {
		return cat([]byte{0, 0}, be16(hatype), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, be16(proto))
	}
	sll2Hdr = func(hatype, proto uint16) []byte {
		return cat(be16(proto), []byte{0, 0, 0, 0, 0, 3}, be16(hatype), []byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	}
	snap = func(et uint16) []byte { return cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, be16(et)) }
)

// nflogTLV is one NFLOG TLV with its header in the given byte order,
// padded to 4 bytes.
func nflogTLV(o binary.ByteOrder, typ uint16, v []byte) []byte {
	h := make([]byte, 4)
	o.PutUint16(h, uint16(4+len(v)))
	o.PutUint16(h[2:], typ)
	out := cat(h, v)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

func nflogFrame(o binary.ByteOrder, family byte) func(ip []byte) []byte {
	return func(ip []byte) []byte {
		return cat([]byte{family, 0, 0, 5},
			nflogTLV(o, 1, []byte{0x08, 0x00, 3, 0}), // NFULA_PACKET_HDR: hw protocol, hook
			nflogTLV(o, 10, []byte("drop")),          // NFULA_PREFIX, 8 bytes: padding follows
			nflogTLV(o, 9, ip))                       // NFULA_PAYLOAD
	}
}

// tunnel builds eth/ipv4/<proto> around the inner frame.
func tunnelFrame(t testing.TB, proto layers.IPProtocol, inner ...gopacket.SerializableLayer) func(ip []byte) []byte {
	return func(ip []byte) []byte {
		ls := append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, proto)}, inner...)
		return serialize(t, append(ls, gopacket.Payload(ip))...)
	}
}

func udpTo(port uint16, body []byte) []gopacket.SerializableLayer {
	return []gopacket.SerializableLayer{&layers.UDP{SrcPort: 50000, DstPort: layers.UDPPort(port)}, gopacket.Payload(body)}
}

func framingCases(t testing.TB) []framingCase {
	wlanData := func(qos bool) []byte {
		fc := []byte{0x08, 0x01} // data, to DS
		if qos {
			fc[0] = 0x88
		}
		h := cat(fc, []byte{0, 0}, macA, macB, macA, []byte{0x10, 0})
		if qos {
			h = append(h, 0, 0)
		}
		return cat(h, snap(0x0800))
	}
	return []framingCase{
		// PPP in all its framings
		{"pppoe, 2-byte protocol", layers.LinkTypeEthernet, func(ip []byte) []byte { return cat(ethHdr(0x8864), pppoeHdr([]byte{0, 0x21}, ip), ip) }, false, "eth/pppoe/ipv4/tcp", true, false},
		{"pppoe, PFC", layers.LinkTypeEthernet, func(ip []byte) []byte { return cat(ethHdr(0x8864), pppoeHdr([]byte{0x21}, ip), ip) }, false, "eth/pppoe/ipv4/tcp", true, false},
		{"pppoe, PFC, IPv6", layers.LinkTypeEthernet, func(ip []byte) []byte { return cat(ethHdr(0x8864), pppoeHdr([]byte{0x57}, ip), ip) }, true, "eth/pppoe/ipv6/tcp", true, false},
		// RFC 2516 puts the protocol right after the PPPoE header: ff 03 is
		// protocol 0xff03 to Linux (ppp_generic) and to tshark
		{"pppoe, ff 03 kept", layers.LinkTypeEthernet, func(ip []byte) []byte { return cat(ethHdr(0x8864), pppoeHdr([]byte{0xff, 3, 0, 0x21}, ip), ip) }, false, "eth/pppoe", false, true},
		{"pppoe in a vlan", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x8100), []byte{0, 7}, be16(0x8864), pppoeHdr([]byte{0x21}, ip), ip)
		}, false, "eth/vlan/pppoe/ipv4/tcp", true, false},
		{"ppp (9), ff 03 00 21", layers.LinkTypePPP, func(ip []byte) []byte { return cat([]byte{0xff, 3, 0, 0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp (9), ACFC: 00 21", layers.LinkTypePPP, func(ip []byte) []byte { return cat([]byte{0, 0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp (9), ACFC and PFC: 21", layers.LinkTypePPP, func(ip []byte) []byte { return cat([]byte{0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp (9), PFC: ff 03 21", layers.LinkTypePPP, func(ip []byte) []byte { return cat([]byte{0xff, 3, 0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp (9), IPv6 57", layers.LinkTypePPP, func(ip []byte) []byte { return cat([]byte{0x57}, ip) }, true, "ppp/ipv6/tcp", true, false},
		{"ppp serial (50), ff 03 00 57", layers.LinkTypePPP_HDLC, func(ip []byte) []byte { return cat([]byte{0xff, 3, 0, 0x57}, ip) }, true, "ppp/ipv6/tcp", true, false},
		{"ppp serial (50), PFC", layers.LinkTypePPP_HDLC, func(ip []byte) []byte { return cat([]byte{0xff, 3, 0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp serial (50), Cisco HDLC", layers.LinkTypePPP_HDLC, func(ip []byte) []byte { return cat([]byte{0x0f, 0, 8, 0}, ip) }, false, "chdlc/ipv4/tcp", true, false},
		{"ppp with direction (204)", 204, func(ip []byte) []byte { return cat([]byte{1, 0xff, 3, 0, 0x21}, ip) }, false, "ppp/ipv4/tcp", true, false},
		{"ppp ether (51)", 51, func(ip []byte) []byte { return cat(pppoeHdr([]byte{0x21}, ip), ip) }, false, "pppoe/ipv4/tcp", true, false},
		{"linux ppp0, sll", layers.LinkTypeLinuxSLL, func(ip []byte) []byte { return cat(sllHdr(512, 0x0800), ip) }, false, "sll/ipv4/tcp", true, false},
		{"linux ppp0, sll2", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(512, 0x86dd), ip) }, true, "sll2/ipv6/tcp", true, false},
		{"sll, pppoe", layers.LinkTypeLinuxSLL, func(ip []byte) []byte { return cat(sllHdr(1, 0x8864), pppoeHdr([]byte{0, 0x21}, ip), ip) }, false, "sll/pppoe/ipv4/tcp", true, false},
		{"sll2, pppoe PFC", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(1, 0x8864), pppoeHdr([]byte{0x21}, ip), ip) }, false, "sll2/pppoe/ipv4/tcp", true, false},
		{"sll, WAN PPP (0x0007)", layers.LinkTypeLinuxSLL, func(ip []byte) []byte { return cat(sllHdr(512, 7), []byte{0xff, 3, 0, 0x21}, ip) }, false, "sll/ppp/ipv4/tcp", true, false},
		{"c-hdlc (104), unicast", 104, func(ip []byte) []byte { return cat([]byte{0x0f, 0, 8, 0}, ip) }, false, "chdlc/ipv4/tcp", true, false},
		{"c-hdlc (104), broadcast, IPv6", 104, func(ip []byte) []byte { return cat([]byte{0x8f, 0, 0x86, 0xdd}, ip) }, true, "chdlc/ipv6/tcp", true, false},
		// Linux cooked v2 with the protocols it carries
		{"sll2, 802.2 LLC/SNAP", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(1, 4), snap(0x0800), ip) }, false, "sll2/llc/ipv4/tcp", true, false},
		{"sll2, vlan", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(1, 0x8100), []byte{0, 7}, be16(0x0800), ip) }, false, "sll2/vlan/ipv4/tcp", true, false},
		{"sll2, mpls", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(1, 0x8847), []byte{0, 0x10, 0x01, 64}, ip) }, false, "sll2/mpls/ipv4/tcp", true, false},
		{"sll2, ipoib device", layers.LinkTypeLinuxSLL2, func(ip []byte) []byte { return cat(sll2Hdr(32, 0x0800), ip) }, false, "sll2/ipv4/tcp", true, false},
		// other link types
		{"ipoib (242)", 242, func(ip []byte) []byte { return cat(make([]byte, 40), []byte{8, 0, 0, 0}, ip) }, false, "ipoib/ipv4/tcp", true, false},
		{"nflog (239)", 239, nflogFrame(binary.LittleEndian, 2), false, "nflog/ipv4/tcp", true, false},
		{"nflog (239), IPv6", 239, nflogFrame(binary.LittleEndian, 10), true, "nflog/ipv6/tcp", true, false},
		{"arcnet (129), RFC 1201", 129, func(ip []byte) []byte { return cat([]byte{1, 2, 0, 0, 212, 0, 0, 0}, ip) }, false, "arcnet/ipv4/tcp", true, false},
		{"arcnet (129), RFC 1051", 129, func(ip []byte) []byte { return cat([]byte{1, 2, 0, 0, 240}, ip) }, false, "arcnet/ipv4/tcp", true, false},
		{"arcnet (129), IPv6", 129, func(ip []byte) []byte { return cat([]byte{1, 2, 0, 0, 196, 0, 0, 0}, ip) }, true, "arcnet/ipv6/tcp", true, false},
		{"802.3 with LLC/SNAP", layers.LinkTypeEthernet, func(ip []byte) []byte { return cat(ethHdr(uint16(8+len(ip))), snap(0x0800), ip) }, false, "eth/llc/ipv4/tcp", true, false},
		// Ethernet stacks
		{"802.1ah PBB", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88a8), []byte{0, 100}, be16(0x88e7), []byte{0, 0x01, 0x02, 0x03}, macB, macA, be16(0x0800), ip)
		}, false, "eth/qinq/pbb/ipv4/tcp", true, false},
		{"802.1ah PBB, customer tag", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88e7), []byte{0, 0, 0, 9}, macB, macA, be16(0x8100), []byte{0, 5}, be16(0x86dd), ip)
		}, true, "eth/pbb/vlan/ipv6/tcp", true, false},
		{"QinQ, three tags", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88a8), []byte{0, 1}, be16(0x8100), []byte{0, 2}, be16(0x8100), []byte{0, 3}, be16(0x0800), ip)
		}, false, "eth/qinq/vlan/vlan/ipv4/tcp", true, false},
		{"QinQ, 0x9100 and four tags", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x9100), []byte{0, 1}, be16(0x8100), []byte{0, 2}, be16(0x8100), []byte{0, 3}, be16(0x8100), []byte{0, 4}, be16(0x86dd), ip)
		}, true, "eth/qinq/vlan/vlan/vlan/ipv6/tcp", true, false},
		{"MACsec integrity only, with SCI", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88e5), []byte{0x20, 0, 0, 0, 0, 1}, macA, []byte{0, 1}, be16(0x0800), ip, bytes.Repeat([]byte{0xcc}, 16))
		}, false, "eth/macsec/ipv4/tcp", false, false},
		{"MACsec integrity only, no SCI", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88e5), []byte{0x00, 0, 0, 0, 0, 2}, be16(0x86dd), ip, bytes.Repeat([]byte{0xcc}, 16))
		}, true, "eth/macsec/ipv6/tcp", false, false},
		{"MACsec encrypted", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x88e5), []byte{0x2c, 0, 0, 0, 0, 1}, macA, []byte{0, 1}, be16(0x0800), ip, bytes.Repeat([]byte{0xcc}, 16))
		}, false, "eth/macsec", false, true},
		// RFC 2516 fixes version and type at 1; tshark reads any
		{"pppoe version 2", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x8864), []byte{0x21}, pppoeHdr([]byte{0, 0x21}, ip)[1:], ip)
		}, false, "eth/pppoe/ipv4/tcp", true, false},
		{"NSH MD type 1", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x894f), []byte{0x0f, 0xc6, 0x01, 0x01, 0, 0, 1, 0xff}, make([]byte, 16), ip)
		}, false, "eth/nsh/ipv4/tcp", true, false},
		{"NSH MD type 2, Ethernet", layers.LinkTypeEthernet, func(ip []byte) []byte {
			return cat(ethHdr(0x894f), []byte{0x0f, 0xc4, 0x02, 0x03, 0, 0, 1, 0xff}, []byte{0, 1, 2, 4, 1, 2, 3, 4}, ethHdr(0x86dd), ip)
		}, true, "eth/nsh/eth/ipv6/tcp", true, false},
		// encapsulations inside IP: decoded, not clamped
		{"ERSPAN type II", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: 0x88be}, gopacket.Payload(cat([]byte{0x10, 0x64, 0x00, 0x07, 0, 0, 0, 1}, ethHdr(0x0800)))), false, "eth/ipv4/gre/erspan/eth/ipv4/tcp", false, false},
		{"ERSPAN type III", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: 0x22eb}, gopacket.Payload(cat([]byte{0x20, 0x64, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 0, 0}, ethHdr(0x0800)))), false, "eth/ipv4/gre/erspan/eth/ipv4/tcp", false, false},
		{"ERSPAN type III with platform sub-header", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: 0x22eb}, gopacket.Payload(cat([]byte{0x20, 0x64, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 0, 1}, []byte{0x0c, 0, 0, 0, 0, 0, 0, 0}, ethHdr(0x86dd)))), true, "eth/ipv4/gre/erspan/eth/ipv6/tcp", false, false},
		{"ERSPAN type III, frame type 7", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: 0x22eb}, gopacket.Payload(cat([]byte{0x20, 0x64, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 0x1c, 0}, ethHdr(0x0800)))), false, "eth/ipv4/gre/erspan", false, true},
		{"GRE in UDP (4754)", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolUDP, udpTo(4754, []byte{0, 0, 0x08, 0})...), false, "eth/ipv4/udp/gre/ipv4/tcp", false, false},
		{"Aruba GRE 0x8210, 802.11 data", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{Protocol: 0x8210}, gopacket.Payload(wlanData(false))), false, "eth/ipv4/gre/wlan/ipv4/tcp", false, false},
		{"Aruba GRE 0x8300, 802.11 QoS data", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{Protocol: 0x8300}, gopacket.Payload(wlanData(true))), false, "eth/ipv4/gre/wlan/ipv4/tcp", false, false},
		{"AYIYA (5072)", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolUDP,
			udpTo(5072, cat([]byte{0x41, 0x52, 0x21, 41, 0, 0, 0, 1}, make([]byte, 16), make([]byte, 20)))...), true, "eth/ipv4/udp/ayiya/ipv6/tcp", false, false},
		{"NSH over GRE", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{Protocol: 0x894f}, gopacket.Payload([]byte{0x0f, 0xc2, 0x02, 0x01, 0, 0, 1, 0xff})), false, "eth/ipv4/gre/nsh/ipv4/tcp", false, false},
	}
}

// synFor is the TCP SYN of case i: its own MSS, source port and addresses.
func synFor(t testing.TB, i int, v6 bool) []byte {
	tcp := tcpSYN(uint16(1000 + i))
	tcp.SrcPort = layers.TCPPort(30000 + i)
	if v6 {
		return serialize(t, ip6(v6a, v6b, layers.IPProtocolTCP), tcp)
	}
	return serialize(t, ip4(v4c, v4d, layers.IPProtocolTCP), tcp)
}

// TestFramings writes one SYN per framing into a capture (one pcapng
// interface per link type, and a big-endian pcap for NFLOG's byte order),
// decodes it with mtukit and with tshark (same flows, same SYN MSS), and
// clamps it: tshark then reads the target MSS in every frame a clamp on the
// link sees, and the original in the tunnelled and protected ones.
func TestFramings(t *testing.T) {
	cases := framingCases(t)
	var ps []ngPacket
	ifaces := map[layers.LinkType]int{} // by first use, as pcapngOf adds them
	for i, tc := range cases {
		idx, ok := ifaces[tc.link]
		if !ok {
			idx = len(ifaces)
			ifaces[tc.link] = idx
		}
		ps = append(ps, ngPacket{iface: idx, link: tc.link, data: tc.frame(synFor(t, i, tc.v6))})
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "framings.pcapng")
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(pcapngOf(t, ps)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// mtukit: the stack and the SYN of every frame
	var d Decoder
	for i, tc := range cases {
		pk := Packet{WireLen: len(ps[i].data)}
		if err := d.Decode(tc.link, ps[i].data, &pk); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := pk.Stack.String(); got != tc.stack {
			t.Errorf("%s: stack %s, want %s", tc.name, got, tc.stack)
		}
		if tc.notIP {
			if pk.L4 == 6 {
				t.Errorf("%s: TCP found", tc.name)
			}
			continue
		}
		s, err := readOptions(pk.TCP.Header)
		if pk.L4 != 6 || err != nil || int(s.MSS) != 1000+i {
			t.Errorf("%s: L4 %d MSS %d (%v), want %d", tc.name, pk.L4, s.MSS, err, 1000+i)
		}
	}
	bin := requireTshark(t)
	name := func(n int64) string { return cases[n-1].name }
	compareTshark(t, bin, in, name, func(n int64) bool { return cases[n-1].notIP })

	// NFLOG's TLV headers are in the capturing host's byte order: a
	// big-endian file.
	be := filepath.Join(dir, "nflog-be.pcap")
	if err := os.WriteFile(be, writePcapBE(239, [][]byte{nflogFrame(binary.BigEndian, 2)(synFor(t, 0, false))}), 0o644); err != nil {
		t.Fatal(err)
	}
	compareTshark(t, bin, be, func(int64) string { return "nflog (239), big-endian file" }, func(int64) bool { return false })

	// clamp to MSS 900, then tshark reads the result
	c := &mss.Clamper{Target: mustMSS(t, 900)}
	var out bytes.Buffer
	rep, err := Clamp(bytes.NewReader(b), &out, c)
	if err != nil {
		t.Fatal(err)
	}
	clamped := filepath.Join(dir, "clamped.pcapng")
	if d := os.Getenv("MTUKIT_KEEP"); d != "" {
		os.WriteFile(filepath.Join(d, "framings.pcapng"), b, 0o644)
		os.WriteFile(filepath.Join(d, "clamped.pcapng"), out.Bytes(), 0o644)
	}
	if err := os.WriteFile(clamped, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, tc := range cases {
		if tc.clamp {
			want++
		}
	}
	if n := rep.UnchangedReasons["integrity-protected"]; n != 2 {
		t.Errorf("%d SYNs left alone inside MACsec, want 2 (%v)", n, rep.UnchangedReasons)
	}
	if rep.PacketsOut != len(cases) {
		t.Errorf("clamp wrote %d packets of %d", rep.PacketsOut, len(cases))
	}
	if rep.Clamped != want || rep.Unparsed != 0 {
		t.Errorf("clamp report: %d clamped, %d unparsed %v; want %d clamped", rep.Clamped, rep.Unparsed, rep.UnparsedPackets, want)
	}
	after := tsharkFields(t, bin, clamped)
	for i, tc := range cases {
		wantMSS := itoa(1000 + i)
		if tc.notIP {
			wantMSS = ""
		}
		if tc.clamp {
			wantMSS = "900"
		}
		if f := after[int64(i+1)]; f.mss != wantMSS || f.malformed {
			t.Errorf("%s: after the clamp tshark reads MSS %q (malformed %v), want %s", tc.name, f.mss, f.malformed, wantMSS)
		}
	}
}

func mustMSS(t testing.TB, v int) mss.Target {
	m, err := mss.MSSTarget(v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// compareTshark decodes file with mtukit and tshark and compares every
// frame's innermost TCP header and SYN MSS.
func compareTshark(t *testing.T, bin, file string, name func(int64) string, notIP func(int64) bool) {
	t.Helper()
	want := tsharkFields(t, bin, file)
	got, n := decodeAll(t, file)
	if int(n) != len(want) {
		t.Errorf("mtukit read %d frames, tshark %d", n, len(want))
	}
	for k, w := range want {
		g := got[k]
		if notIP(k) {
			if w.hasTCP || g.hasTCP {
				t.Errorf("%s (frame %d): TCP found by tshark (%v) or mtukit (%v)", name(k), k, w.hasTCP, g.hasTCP)
			}
			continue
		}
		if !w.hasTCP || w.malformed {
			t.Errorf("%s (frame %d): tshark finds no TCP (malformed %v)", name(k), k, w.malformed)
			continue
		}
		wt, gt := w, g.tsharkFrame
		wt.malformed, gt.malformed = false, false
		if wt != gt {
			t.Errorf("%s (frame %d):\n tshark %s\n mtukit %s (%v)", name(k), k, show(wt), show(gt), g.err)
		}
	}
}

// writePcapBE writes a big-endian pcap file of one link type.
func writePcapBE(link layers.LinkType, frames [][]byte) []byte {
	var b []byte
	o := binary.BigEndian
	b = o.AppendUint32(b, 0xa1b2c3d4)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 262144)
	b = o.AppendUint32(b, uint32(link))
	ts := time.Unix(1700000000, 0)
	for i, f := range frames {
		b = o.AppendUint32(b, uint32(ts.Unix())+uint32(i))
		b = o.AppendUint32(b, 0)
		b = o.AppendUint32(b, uint32(len(f)))
		b = o.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// TestFramingsCut cuts every framing's SYN at every length. Cut by the
// snap length (the original length is the whole frame), a frame is never
// malformed; cut short on the wire (its original length is what is left),
// a header that does not fit is malformed. Either way a TCP header is only
// reported with the SYN's own MSS, never a wrong one.
func TestFramingsCut(t *testing.T) {
	for i, tc := range framingCases(t) {
		frame := tc.frame(synFor(t, i, tc.v6))
		var d Decoder
		for n := 0; n < len(frame); n++ {
			for _, snap := range []bool{true, false} {
				p := Packet{WireLen: n}
				if snap {
					p.WireLen = len(frame)
				}
				err := d.Decode(tc.link, frame[:n], &p)
				if snap && err != nil {
					t.Errorf("%s cut to %d by the snap length: %v", tc.name, n, err)
				}
				if p.L4 == 6 && !p.TCP.OptsCut {
					if s, err := readOptions(p.TCP.Header); err == nil && s.MSS != 0 && int(s.MSS) != 1000+i {
						t.Errorf("%s cut to %d: MSS %d", tc.name, n, s.MSS)
					}
				}
			}
		}
		// A frame that ends inside its IP header, the link headers whole,
		// is malformed, and the error names the IP layer.
		ipLen := 20
		if tc.v6 {
			ipLen = 40
		}
		if tc.notIP {
			continue
		}
		at := len(frame) - len(synFor(t, i, tc.v6)) + ipLen - 1
		if tc.clamp || tc.name == "MACsec integrity only, with SCI" || tc.name == "MACsec integrity only, no SCI" {
			p := Packet{WireLen: at}
			err := d.Decode(tc.link, frame[:at], &p)
			var de *DecodeError
			if !errors.As(err, &de) || (de.Layer != LayerIPv4 && de.Layer != LayerIPv6) {
				t.Errorf("%s ending inside its IP header: %v, want an ipv4/ipv6 decode error", tc.name, err)
			}
		}
	}
}

// TestFramingsLying: headers whose lengths lie are malformed, counted with
// their packet numbers by Analyze, and the rest of the file is read. (A
// tunnel found by its UDP port alone, AYIYA or GRE in UDP, that does not
// decode is plain UDP, as VXLAN and GENEVE are.)
func TestFramingsLying(t *testing.T) {
	syn := synFor(t, 0, false)
	good := cat(ethHdr(0x0800), syn)
	lying := []struct {
		name  string
		link  layers.LinkType
		frame []byte
	}{
		{"pppoe ends inside its protocol field", layers.LinkTypeEthernet, cat(ethHdr(0x8864), []byte{0x11, 0, 0, 1, 0, 2, 0x00})},
		{"ppp ends after ff 03", layers.LinkTypePPP, []byte{0xff, 0x03}},
		{"nflog TLV length 2", 239, cat([]byte{2, 0, 0, 5}, []byte{2, 0, 9, 0}, syn)},
		{"nflog TLV past the frame", 239, cat([]byte{2, 0, 0, 5}, []byte{0xff, 0, 1, 0}, syn)},
		{"nsh length 1 word", layers.LinkTypeEthernet, cat(ethHdr(0x894f), []byte{0x0f, 0xc1, 0x01, 0x01, 0, 0, 1, 0xff}, syn)},
		{"nsh length past the frame", layers.LinkTypeEthernet, cat(ethHdr(0x894f), []byte{0x0f, 0xff, 0x01, 0x01, 0, 0, 1, 0xff})},
		{"macsec SCI cut", layers.LinkTypeEthernet, cat(ethHdr(0x88e5), []byte{0x20, 0, 0, 0, 0, 1, 2, 0, 0})},
		{"ipoib 4 bytes", 242, []byte{8, 0, 0, 0}},
		{"arcnet RFC 1201 cut", 129, []byte{1, 2, 0, 0, 212, 0}},
		{"c-hdlc 3 bytes", 104, []byte{0x0f, 0, 8}},
		{"pbb I-TAG cut", layers.LinkTypeEthernet, cat(ethHdr(0x88e7), []byte{0, 0, 0, 9}, macB)},
		{"erspan III sub-header past the frame", layers.LinkTypeEthernet, tunnelFrame(t, layers.IPProtocolGRE,
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: 0x22eb})([]byte{0x20, 0x64, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 0, 1, 0})},
		{"vlan tags beyond 16 headers", layers.LinkTypeEthernet, cat(ethHdr(0x8100), bytes.Repeat(cat([]byte{0, 1}, be16(0x8100)), 16), []byte{0, 1}, be16(0x0800), syn)},
	}
	var ps []ngPacket
	ifaces := map[layers.LinkType]int{layers.LinkTypeEthernet: 0}
	ps = append(ps, ngPacket{iface: 0, link: layers.LinkTypeEthernet, data: good})
	var want []int64
	for _, l := range lying {
		idx, ok := ifaces[l.link]
		if !ok {
			idx = len(ifaces)
			ifaces[l.link] = idx
		}
		ps = append(ps, ngPacket{iface: idx, link: l.link, data: l.frame})
		want = append(want, int64(len(ps)))
		ps = append(ps, ngPacket{iface: 0, link: layers.LinkTypeEthernet, data: good})
	}
	// each lying frame alone: a decode error
	var d Decoder
	for _, l := range lying {
		p := Packet{WireLen: len(l.frame)}
		if err := d.Decode(l.link, l.frame, &p); err == nil {
			t.Errorf("%s: no error (stack %s, L4 %d)", l.name, p.Stack, p.L4)
		}
	}
	r, err := Analyze(pcapngOf(t, ps), Options{MaxFindings: 100})
	if err != nil {
		t.Fatal(err)
	}
	if r.Packets != int64(len(ps)) || r.Malformed != int64(len(lying)) {
		t.Errorf("%d packets, %d malformed; want %d, %d", r.Packets, r.Malformed, len(ps), len(lying))
	}
	var got []int64
	for _, f := range r.Findings {
		if f.Code == CodeMalformedPacket {
			got = f.Packets
		}
	}
	if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) || len(got) == 0 {
		t.Errorf("malformed packets %v, want %v", got, want)
	}
}

// TestFramingsAllocs: decoding a frame allocates nothing in any framing.
func TestFramingsAllocs(t *testing.T) {
	for i, tc := range framingCases(t) {
		frame := tc.frame(synFor(t, i, tc.v6))
		var d Decoder
		var p Packet
		n := testing.AllocsPerRun(200, func() {
			p.WireLen = len(frame)
			if err := d.Decode(tc.link, frame, &p); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %.1f allocations per decode, want 0", tc.name, n)
		}
	}
	// and the clamp's locator, on every framing a clamp rewrites
	c := &mss.Clamper{Target: mustMSS(t, 900)}
	for i, tc := range framingCases(t) {
		fr, _ := mss.LinkFraming(int(tc.link))
		frame := tc.frame(synFor(t, i, tc.v6))
		n := testing.AllocsPerRun(200, func() { c.Clamp(frame, fr) })
		if n != 0 {
			t.Errorf("clamp %s: %.1f allocations, want 0", tc.name, n)
		}
	}
}
