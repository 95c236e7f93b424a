package icmpquote

import (
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// serialize builds a packet with gopacket, the independent oracle for the
// header layouts.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	src4, dst4 = net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 7}
	src6, dst6 = net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::7")
)

func addr16(ip net.IP) (a [16]byte) {
	if v4 := ip.To4(); v4 != nil {
		copy(a[:4], v4)
		return a
	}
	copy(a[:], ip)
	return a
}

func tcp4(t testing.TB, flags uint16, fragOff uint16) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src4, DstIP: dst4, Flags: layers.IPv4Flag(flags), FragOffset: fragOff}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 0x01020304, DataOffset: 5, ACK: true}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, ip, tcp, gopacket.Payload(make([]byte, 1400)))
}

func TestParse(t *testing.T) {
	v4 := tcp4(t, uint16(layers.IPv4DontFragment), 0)
	v4opts := func() []byte { // IHL 6: 4 bytes of options (NOPs)
		ip := &layers.IPv4{Version: 4, IHL: 6, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src4, DstIP: dst4,
			Options: []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}}
		return serialize(t, ip, &layers.UDP{SrcPort: 5353, DstPort: 33434}, gopacket.Payload(make([]byte, 100)))
	}()
	v6 := serialize(t, &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64, SrcIP: src6, DstIP: dst6},
		&layers.UDP{SrcPort: 5353, DstPort: 33434}, gopacket.Payload(make([]byte, 1232)))
	v6frag := func(off uint16) []byte {
		return serialize(t, &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolIPv6Fragment, HopLimit: 64, SrcIP: src6, DstIP: dst6},
			&layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, FragmentOffset: off, MoreFragments: true, Identification: 7},
			&layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 99, DataOffset: 5}, gopacket.Payload(make([]byte, 100)))
	}
	cases := []struct {
		name string
		b    []byte
		want Quote
		err  error
	}{
		{name: "ipv4 tcp whole", b: v4, want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 20, TotalLen: 1440, DF: true, NextHeader: 6, Proto: 6,
			SrcPort: 40000, DstPort: 443, HasPorts: true, Seq: 0x01020304, HasSeq: true}},
		{name: "ipv4 tcp, RFC 792 quote (8 bytes)", b: v4[:28], want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 20, TotalLen: 1440, DF: true, NextHeader: 6, Proto: 6,
			SrcPort: 40000, DstPort: 443, HasPorts: true, Seq: 0x01020304, HasSeq: true}},
		{name: "ipv4 tcp, ports only", b: v4[:24], want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 20, TotalLen: 1440, DF: true, NextHeader: 6, Proto: 6,
			SrcPort: 40000, DstPort: 443, HasPorts: true}},
		{name: "ipv4 header only", b: v4[:20], want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 20, TotalLen: 1440, DF: true, NextHeader: 6, Proto: 6}},
		{name: "ipv4 later fragment", b: tcp4(t, 0, 185), want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 20, TotalLen: 1440, NextHeader: 6, Proto: 6}},
		{name: "ipv4 with options, udp", b: v4opts, want: Quote{Family: 4, Src: addr16(src4), Dst: addr16(dst4), HdrLen: 24, TotalLen: 132, NextHeader: 17, Proto: 17,
			SrcPort: 5353, DstPort: 33434, HasPorts: true}},
		{name: "ipv6 udp", b: v6, want: Quote{Family: 6, Src: addr16(src6), Dst: addr16(dst6), HdrLen: 40, TotalLen: 1280, NextHeader: 17, Proto: 17,
			SrcPort: 5353, DstPort: 33434, HasPorts: true}},
		{name: "ipv6 first fragment, tcp", b: v6frag(0), want: Quote{Family: 6, Src: addr16(src6), Dst: addr16(dst6), HdrLen: 40, TotalLen: 168, NextHeader: 44, Proto: 6,
			SrcPort: 40000, DstPort: 443, HasPorts: true, Seq: 99, HasSeq: true}},
		{name: "ipv6 later fragment", b: v6frag(100), want: Quote{Family: 6, Src: addr16(src6), Dst: addr16(dst6), HdrLen: 40, TotalLen: 168, NextHeader: 44, Proto: 6}},
		{name: "ipv6 fragment header cut", b: v6frag(0)[:44], want: Quote{Family: 6, Src: addr16(src6), Dst: addr16(dst6), HdrLen: 40, TotalLen: 168, NextHeader: 44}},
		{name: "empty", b: nil, err: ErrShort},
		{name: "ipv4 cut", b: v4[:19], err: ErrShort},
		{name: "ipv4 ihl 4", b: func() []byte { b := append([]byte(nil), v4[:28]...); b[0] = 0x44; return b }(), err: ErrHeaderLen},
		{name: "ipv4 ihl past the quote", b: func() []byte { b := append([]byte(nil), v4[:28]...); b[0] = 0x48; return b }(), err: ErrShort},
		{name: "ipv6 cut", b: v6[:39], err: ErrShort},
		{name: "version 5", b: append([]byte{0x50}, v4[1:28]...), err: ErrVersion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := Quote{Family: 9, Proto: 9} // Parse resets
			err := Parse(tc.b, &q)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, q); diff != "" {
				t.Errorf("quote (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	b := tcp4(t, 0, 0)[:28]
	var q Quote
	if n := testing.AllocsPerRun(100, func() { _ = Parse(b, &q) }); n != 0 {
		t.Fatalf("%v allocations per Parse", n)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(tcp4(f, 0, 0)[:28])                                              // RFC 792 quote of a TCP segment
	f.Add(tcp4(f, 0, 185)[:28])                                            // a later fragment: no ports
	f.Add([]byte{0x46, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4})     // cut inside the header
	f.Add(append([]byte{0x60, 0, 0, 0, 0, 8, 0, 64}, make([]byte, 40)...)) // IPv6 with a hop-by-hop header of length 0
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Quote
		err := Parse(b, &q)
		if (err != nil) != (q.Family == 0) {
			t.Fatalf("err %v with family %d", err, q.Family)
		}
		if q.Family != 0 && q.HdrLen > len(b) {
			t.Fatalf("header length %d beyond the quote (%d bytes)", q.HdrLen, len(b))
		}
		if q.HasSeq && !q.HasPorts {
			t.Fatalf("sequence number without ports")
		}
	})
}
