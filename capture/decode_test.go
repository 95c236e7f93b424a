package capture

import (
	"github.com/mtukit/mtukit/mss"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	v4a  = net.IPv4(192, 0, 2, 1).To4()
	v4b  = net.IPv4(198, 51, 100, 2).To4()
	v4c  = net.IPv4(203, 0, 113, 3).To4()
	v4d  = net.IPv4(203, 0, 113, 4).To4()
	v6a  = net.ParseIP("2001:db8::1")
	v6b  = net.ParseIP("2001:db8::2")
)

// serialize builds a frame from layers, fixing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var nl gopacket.NetworkLayer
	for _, l := range ls {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			nl = n // the innermost one carries the transport
		}
		switch x := l.(type) {
		case *layers.TCP:
			x.SetNetworkLayerForChecksum(nl)
		case *layers.UDP:
			x.SetNetworkLayerForChecksum(nl)
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ip4(src, dst net.IP, p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: p, SrcIP: src, DstIP: dst}
}

func ip6(src, dst net.IP, p layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: p, SrcIP: src, DstIP: dst}
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func tcpSYN(mss uint16) *layers.TCP {
	return &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 7, SYN: true, Window: 64240, Options: []layers.TCPOption{mssOpt(mss)}}
}

func payload(n int) gopacket.Payload { return gopacket.Payload(make([]byte, n)) }

// TestDecodeEncapsulations decodes one crafted frame per encapsulation and
// link type, and checks the layers, the inner TCP header, the overhead the
// encapsulation adds and the calc spec it is named by (the overhead is
// recomputed here from the header sizes of the RFCs).
func TestDecodeEncapsulations(t *testing.T) {
	inner4 := func() []gopacket.SerializableLayer {
		return []gopacket.SerializableLayer{ip4(v4c, v4d, layers.IPProtocolTCP), tcpSYN(1400), payload(100)}
	}
	inner6 := func() []gopacket.SerializableLayer {
		return []gopacket.SerializableLayer{ip6(v6a, v6b, layers.IPProtocolTCP), tcpSYN(1380), payload(100)}
	}
	cat := func(a []gopacket.SerializableLayer, b ...gopacket.SerializableLayer) []gopacket.SerializableLayer {
		return append(a, b...)
	}
	pl := func(ls ...gopacket.SerializableLayer) []gopacket.SerializableLayer { return ls }
	for _, tc := range []struct {
		name     string
		link     layers.LinkType
		prefix   []byte // raw link header for link types gopacket cannot write
		layers   []gopacket.SerializableLayer
		stack    string
		overhead int    // bytes against the link MTU (RFC header sizes)
		spec     string // calc name
		mss      uint16
	}{
		{"plain IPv4", layers.LinkTypeEthernet, nil, cat(pl(eth(layers.EthernetTypeIPv4)), inner4()...), "eth/ipv4/tcp", 0, "", 1400},
		{"802.1Q", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}), inner4()...), "eth/vlan/ipv4/tcp", 0, "", 1400},
		{"QinQ", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv6}), inner6()...), "eth/qinq/vlan/ipv6/tcp", 0, "", 1380},
		{"MPLS, two labels", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 16, TTL: 64}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 64}), inner4()...), "eth/mpls/mpls/ipv4/tcp", 8, "mpls(labels=2)", 1400},
		{"PPPoE", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 7}, &layers.PPP{PPPType: layers.PPPTypeIPv6}), inner6()...), "eth/pppoe/ipv6/tcp", 8, "pppoe", 1380},
		{"GRE with key", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolGRE), &layers.GRE{KeyPresent: true, Key: 42, Protocol: layers.EthernetTypeIPv4}), inner4()...), "eth/ipv4/gre/ipv4/tcp", 20 + 4 + 4, "gre(key)", 1400},
		{"gretap", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}, eth(layers.EthernetTypeIPv4)), inner4()...), "eth/ipv4/gre/eth/ipv4/tcp", 20 + 4 + 14, "gretap", 1400},
		{"GRE over IPv6", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv6), ip6(v6a, v6b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}), inner4()...), "eth/ipv6/gre/ipv4/tcp", 40 + 4, "gre(ipv6,noencaplimit)", 1400},
		{"VXLAN", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolUDP), &layers.UDP{SrcPort: 51000, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true, VNI: 5}, eth(layers.EthernetTypeIPv4)), inner4()...), "eth/ipv4/udp/vxlan/eth/ipv4/tcp", 20 + 8 + 8 + 14, "vxlan", 1400},
		{"GENEVE over IPv6", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv6), ip6(v6a, v6b, layers.IPProtocolUDP), &layers.UDP{SrcPort: 51000, DstPort: 6081}, &layers.Geneve{Protocol: layers.EthernetTypeTransparentEthernetBridging, VNI: 5}, eth(layers.EthernetTypeIPv6)), inner6()...), "eth/ipv6/udp/geneve/eth/ipv6/tcp", 40 + 8 + 8 + 14, "geneve(ipv6)", 1380},
		{"GTP-U", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolUDP), &layers.UDP{SrcPort: 2152, DstPort: 2152}, &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 9}), inner4()...), "eth/ipv4/udp/gtpu/ipv4/tcp", 20 + 8 + 8, "gtpu", 1400},
		{"IP in IP", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolIPv4)), inner4()...), "eth/ipv4/ipv4/tcp", 20, "ipip", 1400},
		{"6in4", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolIPv6)), inner6()...), "eth/ipv4/ipv6/tcp", 20, "sit", 1380},
		{"4in6", layers.LinkTypeEthernet, nil,
			cat(pl(eth(layers.EthernetTypeIPv6), ip6(v6a, v6b, layers.IPProtocolIPv4)), inner4()...), "eth/ipv6/ipv4/tcp", 40, "ip6tnl(noencaplimit)", 1400},
		{"IPv6 extension headers", layers.LinkTypeEthernet, nil,
			pl(eth(layers.EthernetTypeIPv6), ip6(v6a, v6b, layers.IPProtocolIPv6Destination),
				gopacket.Payload([]byte{6, 0, 1, 4, 0, 0, 0, 0}), // destination options: PadN, then TCP
				tcpSYN(1380), payload(100)), "eth/ipv6/tcp", 0, "", 1380},
		{"Linux cooked v1", layers.LinkTypeLinuxSLL, []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}, inner4(), "sll/ipv4/tcp", 0, "", 1400},
		{"Linux cooked v2", layers.LinkTypeLinuxSLL2, []byte{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0}, inner6(), "sll2/ipv6/tcp", 0, "", 1380},
		{"BSD null, IPv4", layers.LinkTypeNull, []byte{2, 0, 0, 0}, inner4(), "null/ipv4/tcp", 0, "", 1400},
		{"BSD loop, IPv6", layers.LinkTypeLoop, []byte{0, 0, 0, 30}, inner6(), "null/ipv6/tcp", 0, "", 1380},
		{"raw IP (101)", layers.LinkTypeRaw, nil, inner6(), "ipv6/tcp", 0, "", 1380},
		{"raw IPv4 (228)", layers.LinkTypeIPv4, nil, inner4(), "ipv4/tcp", 0, "", 1400},
		{"raw IPv6 (229)", layers.LinkTypeIPv6, nil, inner6(), "ipv6/tcp", 0, "", 1380},
		{"PPP (9)", layers.LinkTypePPP, []byte{0xff, 0x03, 0x00, 0x21}, inner4(), "ppp/ipv4/tcp", 0, "", 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := append(append([]byte{}, tc.prefix...), serialize(t, tc.layers...)...)
			var d Decoder
			p := Packet{WireLen: len(frame)}
			if err := d.Decode(tc.link, frame, &p); err != nil {
				t.Fatal(err)
			}
			if got := p.Stack.String(); got != tc.stack {
				t.Errorf("stack %s, want %s", got, tc.stack)
			}
			if p.L4 != 6 || p.TCP.SrcPort != 40000 || p.TCP.DstPort != 443 || p.TCP.PayloadLen != 100 || p.TCP.Flags != mss.FlagSYN {
				t.Errorf("inner TCP %+v", p.TCP)
			}
			s, err := readOptions(p.TCP.Header)
			if err != nil || s.MSS != tc.mss {
				t.Errorf("MSS %d (%v), want %d", s.MSS, err, tc.mss)
			}
			if o := p.overhead(); o != tc.overhead {
				t.Errorf("overhead %d, want %d", o, tc.overhead)
			}
			if tc.spec != "" {
				if got := tunnelSpec(p.Stack, p.overhead()); got != tc.spec {
					t.Errorf("calc spec %q, want %q", got, tc.spec)
				}
			}
		})
	}
}

// TestDecodeNotATunnel: UDP to a tunnel port whose payload is not that
// tunnel stays plain UDP, without an error.
func TestDecodeNotATunnel(t *testing.T) {
	frame := serialize(t, eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 4789}, payload(3))
	var d Decoder
	p := Packet{WireLen: len(frame)}
	if err := d.Decode(layers.LinkTypeEthernet, frame, &p); err != nil {
		t.Fatal(err)
	}
	if p.Stack.String() != "eth/ipv4/udp" || p.L4 != 17 {
		t.Errorf("stack %s L4 %d, want eth/ipv4/udp 17", p.Stack, p.L4)
	}
}

// TestDecodeAllocs asserts the hot paths allocate nothing.
func TestDecodeAllocs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"eth/ipv4/tcp", serialize(t, eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}, payload(1448))},
		{"eth/vlan/ipv6/tcp", serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{Type: layers.EthernetTypeIPv6}, ip6(v6a, v6b, layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}, payload(1428))},
		{"vxlan", serialize(t, eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolUDP), &layers.UDP{SrcPort: 51000, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true, VNI: 5}, eth(layers.EthernetTypeIPv4), ip4(v4c, v4d, layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}, payload(100))},
		{"gre", serialize(t, eth(layers.EthernetTypeIPv4), ip4(v4a, v4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(v4c, v4d, layers.IPProtocolTCP), &layers.TCP{SrcPort: 1, DstPort: 2, ACK: true}, payload(100))},
	} {
		var d Decoder
		var p Packet
		n := testing.AllocsPerRun(1000, func() {
			p.WireLen = len(tc.frame)
			if err := d.Decode(layers.LinkTypeEthernet, tc.frame, &p); err != nil || p.L4 != 6 {
				t.Fatal(err, p.L4)
			}
		})
		if n != 0 {
			t.Errorf("%s: %.1f allocations per decode, want 0", tc.name, n)
		}
	}
}
