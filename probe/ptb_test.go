package probe

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	cli4 = netip.MustParseAddr("10.0.1.1")
	srv4 = netip.MustParseAddr("10.0.2.2")
	cli6 = netip.MustParseAddr("fd01::1")
	srv6 = netip.MustParseAddr("fd02::2")
)

// quoted4 builds the start of an IPv4 probe of size bytes (what a router
// quotes): header with ihl words, then the 8 transport bytes and extra.
func quoted4(ihl int, size int, proto byte, transport []byte, extra []byte) []byte {
	q := make([]byte, ihl*4)
	q[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(q[2:4], uint16(size))
	q[6] = 0x40
	q[8] = 64
	q[9] = proto
	s, d := cli4.As4(), srv4.As4()
	copy(q[12:16], s[:])
	copy(q[16:20], d[:])
	q = append(q, transport...)
	return append(q, extra...)
}

func quoted6(size int, proto byte, transport []byte, extra []byte) []byte {
	q := make([]byte, 40)
	q[0] = 0x60
	binary.BigEndian.PutUint16(q[4:6], uint16(size-40))
	q[6] = proto
	q[7] = 64
	s, d := cli6.As16(), srv6.As16()
	copy(q[8:24], s[:])
	copy(q[24:40], d[:])
	q = append(q, transport...)
	return append(q, extra...)
}

func icmp4(typ, code byte, mtu int, quote []byte) []byte {
	m := []byte{typ, code, 0, 0, 0, 0, byte(mtu >> 8), byte(mtu)}
	return append(m, quote...)
}

func icmp6(typ byte, mtu int, quote []byte) []byte {
	m := []byte{typ, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(m[4:8], uint32(mtu))
	return append(m, quote...)
}

var (
	echo4  = []byte{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07} // echo request id 0x1234 seq 7
	echo6  = []byte{128, 0, 0, 0, 0x12, 0x34, 0x00, 0x07}
	udpHdr = []byte{0x9c, 0x40, 0x12, 0xd5, 0x05, 0x64, 0, 0} // 40000 -> 4821, length 1380
)

func TestParsePTB(t *testing.T) {
	cases := []struct {
		name string
		v6   bool
		msg  []byte
		want PTB
		err  error
	}{
		{name: "v4 echo, RFC 792 minimum quote", msg: icmp4(3, 4, 1400, quoted4(5, 1500, 1, echo4, nil)),
			want: PTB{MTU: 1400, Src: cli4, Dst: srv4, Proto: 1, Size: 1500, Echo: true, EchoID: 0x1234, EchoSeq: 7, Payload: []byte{}}},
		{name: "v4 udp with payload quoted", msg: icmp4(3, 4, 1333, quoted4(5, 1400, 17, udpHdr, []byte("MTK1"))),
			want: PTB{MTU: 1333, Src: cli4, Dst: srv4, Proto: 17, Size: 1400, SrcPort: 40000, DstPort: 4821, UDPLen: 1380, Payload: []byte("MTK1")}},
		{name: "v4 quoted header with options (ihl 6)", msg: icmp4(3, 4, 1400, quoted4(6, 1500, 1, echo4, nil)),
			want: PTB{MTU: 1400, Src: cli4, Dst: srv4, Proto: 1, Size: 1500, Echo: true, EchoID: 0x1234, EchoSeq: 7, Payload: []byte{}}},
		{name: "v4 pre-RFC 1191 router: mtu 0", msg: icmp4(3, 4, 0, quoted4(5, 1500, 1, echo4, nil)),
			want: PTB{MTU: 0, Src: cli4, Dst: srv4, Proto: 1, Size: 1500, Echo: true, EchoID: 0x1234, EchoSeq: 7, Payload: []byte{}}},
		{name: "v4 quoted echo reply is not an echo", msg: icmp4(3, 4, 1400, quoted4(5, 1500, 1, []byte{0, 0, 0, 0, 1, 2, 3, 4}, nil)),
			want: PTB{MTU: 1400, Src: cli4, Dst: srv4, Proto: 1, Size: 1500, Payload: []byte{}}},
		{name: "v4 port unreachable is not a PTB", msg: icmp4(3, 3, 0, quoted4(5, 1500, 17, udpHdr, nil)), err: ErrNotPTB},
		{name: "v4 echo reply is not a PTB", msg: icmp4(0, 0, 0, nil), err: ErrNotPTB},
		{name: "v4 header only", msg: []byte{3, 4, 0}, err: ErrShortICMP},
		{name: "v4 no quote", msg: icmp4(3, 4, 1400, nil), err: ErrShortQuote},
		{name: "v4 quote cut in the transport", msg: icmp4(3, 4, 1400, quoted4(5, 1500, 1, echo4[:4], nil)), err: ErrShortQuote},
		{name: "v4 quote of exactly the header and 8 bytes", msg: icmp4(3, 4, 1400, quoted4(5, 1500, 1, echo4, nil)[:28]), err: nil,
			want: PTB{MTU: 1400, Src: cli4, Dst: srv4, Proto: 1, Size: 1500, Echo: true, EchoID: 0x1234, EchoSeq: 7, Payload: []byte{}}},
		{name: "v4 quoting ipv6", msg: icmp4(3, 4, 1400, quoted6(1500, 58, echo6, nil)), err: ErrQuoteFamily},
		{name: "v4 ihl below 5", msg: icmp4(3, 4, 1400, func() []byte { q := quoted4(5, 1500, 1, echo4, nil); q[0] = 0x44; return q }()), err: ErrBadIHL},
		{name: "v6 echo", v6: true, msg: icmp6(2, 1280, quoted6(1400, 58, echo6, []byte{1, 2})),
			want: PTB{IPv6: true, MTU: 1280, Src: cli6, Dst: srv6, Proto: 58, Size: 1400, Echo: true, EchoID: 0x1234, EchoSeq: 7, Payload: []byte{1, 2}}},
		{name: "v6 udp", v6: true, msg: icmp6(2, 1400, quoted6(1500, 17, udpHdr, nil)),
			want: PTB{IPv6: true, MTU: 1400, Src: cli6, Dst: srv6, Proto: 17, Size: 1500, SrcPort: 40000, DstPort: 4821, UDPLen: 1380, Payload: []byte{}}},
		{name: "v6 quoted extension header: no transport fields", v6: true, msg: icmp6(2, 1400, quoted6(1500, 44, udpHdr, nil)),
			want: PTB{IPv6: true, MTU: 1400, Src: cli6, Dst: srv6, Proto: 44, Size: 1500, Payload: []byte{}}},
		{name: "v6 huge mtu is capped, not negative", v6: true, msg: icmp6(2, -1, quoted6(1500, 17, udpHdr, nil)),
			want: PTB{IPv6: true, MTU: 1<<31 - 1, Src: cli6, Dst: srv6, Proto: 17, Size: 1500, SrcPort: 40000, DstPort: 4821, UDPLen: 1380, Payload: []byte{}}},
		{name: "v6 destination unreachable is not a PTB", v6: true, msg: icmp6(1, 0, quoted6(1500, 17, udpHdr, nil)), err: ErrNotPTB},
		{name: "v6 quoting ipv4", v6: true, msg: icmp6(2, 1280, append(quoted4(5, 1500, 1, echo4, nil), make([]byte, 20)...)), err: ErrQuoteFamily},
		{name: "v6 short quote", v6: true, msg: icmp6(2, 1280, quoted6(1500, 17, udpHdr[:7], nil)), err: ErrShortQuote},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p PTB
			var err error
			if tc.v6 {
				err = ParseICMPv6(tc.msg, &p)
			} else {
				err = ParseICMPv4(tc.msg, &p)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if d := cmp.Diff(tc.want, p, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("PTB (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseRealPTB parses the ICMPv6 packet too big of a real capture
// (zeek's icmp6-toobig.pcap); the expected fields are tshark's:
// tshark -r zeek__icmp_icmp6-toobig.pcap -T fields -e icmpv6.mtu -e ipv6.src
// -e ipv6.dst -e ipv6.plen -e udp.srcport -e udp.dstport -e udp.length
// gives 1280, fe80::dead,fe80::beef, fe80::beef,fe80::dead, 60,12, 30000,
// 13000, 12 (outer then quoted values).
func TestParseRealPTB(t *testing.T) {
	f, err := os.Open("testdata/zeek__icmp_icmp6-toobig.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := r.ReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	msg := data[14+40:] // Ethernet, outer IPv6 (next header 58, no extensions)
	var p PTB
	if err := ParseICMPv6(msg, &p); err != nil {
		t.Fatal(err)
	}
	want := PTB{IPv6: true, MTU: 1280, Src: netip.MustParseAddr("fe80::beef"), Dst: netip.MustParseAddr("fe80::dead"),
		Proto: 17, Size: 12 + 40, SrcPort: 30000, DstPort: 13000, UDPLen: 12, Payload: p.Payload}
	if d := cmp.Diff(want, p, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("(-tshark +ours):\n%s", d)
	}
	if !p.Usable(1500, 1280) || p.Usable(1280, 1280) {
		t.Errorf("usable: a 1280 PTB must lower a 1500 probe and not a 1280 one")
	}
}

func TestParseTimeExceeded(t *testing.T) {
	for _, tc := range []struct {
		name string
		v6   bool
		msg  []byte
		err  error
	}{
		{"v4", false, icmp4(11, 0, 0, quoted4(5, 1401, 1, echo4, nil)), nil},
		{"v6", true, icmp6(3, 0, quoted6(1401, 58, echo6, nil)), nil},
		{"v4 reassembly timeout is not transit", false, icmp4(11, 1, 0, quoted4(5, 1401, 1, echo4, nil)), ErrNotTimeExceeded},
		{"v4 PTB", false, icmp4(3, 4, 1400, quoted4(5, 1401, 1, echo4, nil)), ErrNotTimeExceeded},
		{"v6 PTB", true, icmp6(2, 1400, quoted6(1401, 58, echo6, nil)), ErrNotTimeExceeded},
		{"v4 short quote", false, icmp4(11, 0, 0, nil), ErrShortQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PTB
			err := ParseTimeExceeded(tc.msg, tc.v6, &p)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && (p.Size != 1401 || !p.Echo || p.EchoID != 0x1234 || p.EchoSeq != 7) {
				t.Errorf("parsed %+v", p)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	tag := []byte("MTK1")
	base := Quote{Src: cli4, Dst: srv4, Proto: 17, SrcPort: 40000, DstPort: 4821, Size: 1400, Tag: tag}
	var p PTB
	if err := ParseICMPv4(icmp4(3, 4, 1333, quoted4(5, 1400, 17, udpHdr, []byte("MTK1"))), &p); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(q *Quote)
		want bool
	}{
		{"the probe", func(q *Quote) {}, true},
		{"other source", func(q *Quote) { q.Src = netip.MustParseAddr("10.0.1.9") }, false},
		{"other destination", func(q *Quote) { q.Dst = netip.MustParseAddr("10.0.2.9") }, false},
		{"other source port", func(q *Quote) { q.SrcPort = 40001 }, false},
		{"other destination port", func(q *Quote) { q.DstPort = 4822 }, false},
		{"other size", func(q *Quote) { q.Size = 1500 }, false},
		{"other protocol", func(q *Quote) { q.Proto = 1 }, false},
		{"other tag", func(q *Quote) { q.Tag = []byte("MTK2") }, false},
		{"longer tag than quoted: the quoted part decides", func(q *Quote) { q.Tag = []byte("MTK1 and more") }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := base
			tc.mod(&q)
			if got := p.Matches(&q); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
	// The UDP length must agree with the size (a router quoting a packet
	// whose headers disagree is not quoting our probe).
	p.UDPLen = 1379
	if p.Matches(&base) {
		t.Errorf("matched a quote whose UDP length disagrees with its size")
	}
}

func TestUsable(t *testing.T) {
	for _, tc := range []struct {
		name              string
		v6                bool
		mtu, probe, floor int
		want              bool
	}{
		{"lowers", false, 1400, 1500, 1200, true},
		{"equal to the probe: no", false, 1500, 1500, 1200, false},
		{"above the probe: never raise", false, 9000, 1500, 1200, false},
		{"below the search floor", false, 1100, 1500, 1200, false},
		{"ipv4 minimum 68", false, 67, 1500, 0, false},
		{"ipv4 68 itself", false, 68, 1500, 0, true},
		{"ipv6 below 1280", true, 1279, 1500, 0, false},
		{"ipv6 1280", true, 1280, 1500, 1280, true},
		{"mtu 0 (pre-RFC 1191)", false, 0, 1500, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := PTB{IPv6: tc.v6, MTU: tc.mtu}
			if got := p.Usable(tc.probe, tc.floor); got != tc.want {
				t.Errorf("Usable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseZeroAlloc(t *testing.T) {
	m4 := icmp4(3, 4, 1400, quoted4(5, 1500, 17, udpHdr, make([]byte, 32)))
	m6 := icmp6(2, 1280, quoted6(1500, 58, echo6, nil))
	q := Quote{Src: cli4, Dst: srv4, Proto: 17, SrcPort: 40000, DstPort: 4821, Size: 1500}
	var p PTB
	n := testing.AllocsPerRun(100, func() {
		_ = ParseICMPv4(m4, &p)
		_ = p.Matches(&q)
		_ = ParseICMPv6(m6, &p)
	})
	if n != 0 {
		t.Errorf("%v allocations per parse, want 0", n)
	}
}

func BenchmarkParseICMPv4(b *testing.B) {
	m := icmp4(3, 4, 1400, quoted4(5, 1500, 17, udpHdr, make([]byte, 32)))
	q := Quote{Src: cli4, Dst: srv4, Proto: 17, SrcPort: 40000, DstPort: 4821, Size: 1500}
	var p PTB
	b.ReportAllocs()
	for b.Loop() {
		_ = ParseICMPv4(m, &p)
		_ = p.Matches(&q)
	}
}

// FuzzParsePTB: any bytes parse without panic; a parsed PTB's fields are
// the bytes at their RFC offsets.
func FuzzParsePTB(f *testing.F) {
	f.Add(false, icmp4(3, 4, 1400, quoted4(5, 1500, 1, echo4, nil)))               // a router's PTB for an echo probe
	f.Add(false, icmp4(3, 4, 1333, quoted4(5, 1400, 17, udpHdr, []byte("MTK1"))))  // for a UDP probe, payload quoted
	f.Add(false, icmp4(3, 4, 1400, quoted4(15, 1500, 1, echo4, make([]byte, 40)))) // quoted header with 40 bytes of options
	f.Add(false, icmp4(3, 4, 1400, quoted4(5, 1500, 1, echo4, nil))[:30])          // cut quote
	f.Add(false, []byte{3, 4})                                                     // cut header
	f.Add(true, icmp6(2, 1280, quoted6(1400, 58, echo6, nil)))                     // ICMPv6 PTB for an echo
	f.Add(true, icmp6(2, 1400, quoted6(1500, 17, udpHdr, nil)))                    // for a UDP probe
	f.Add(true, icmp6(2, 1400, quoted6(1500, 17, udpHdr, nil))[:50])               // cut
	f.Add(false, icmp4(11, 0, 0, quoted4(5, 1401, 1, echo4, nil)))                 // time exceeded for --hops
	f.Add(true, icmp6(3, 0, quoted6(1401, 58, echo6, nil)))                        // ICMPv6 time exceeded
	f.Fuzz(func(t *testing.T, v6 bool, msg []byte) {
		var te PTB
		if err := ParseTimeExceeded(msg, v6, &te); err == nil && (te.MTU != 0 || te.IPv6 != v6 || len(te.Payload) > len(msg)) {
			t.Fatalf("time exceeded %+v", te)
		}
		var p PTB
		var err error
		if v6 {
			err = ParseICMPv6(msg, &p)
		} else {
			err = ParseICMPv4(msg, &p)
		}
		if err != nil {
			return
		}
		if p.MTU < 0 {
			t.Fatalf("negative MTU %d", p.MTU)
		}
		if v6 {
			if binary.BigEndian.Uint32(msg[4:8]) < 1<<31 && p.MTU != int(binary.BigEndian.Uint32(msg[4:8])) {
				t.Fatalf("mtu %d, bytes say %d", p.MTU, binary.BigEndian.Uint32(msg[4:8]))
			}
			if p.Size < 40 || !p.Src.Is6() {
				t.Fatalf("bad v6 quote %+v", p)
			}
		} else {
			if p.MTU != int(binary.BigEndian.Uint16(msg[6:8])) || !p.Src.Is4() {
				t.Fatalf("bad v4 PTB %+v", p)
			}
		}
		if len(p.Payload) > len(msg) {
			t.Fatalf("payload longer than the message")
		}
		q := Quote{Src: p.Src, Dst: p.Dst, Proto: p.Proto, EchoID: p.EchoID, EchoSeq: p.EchoSeq, SrcPort: p.SrcPort, DstPort: p.DstPort, Size: p.Size, Tag: p.Payload}
		if (p.Proto == protoUDP && p.UDPLen == p.Size-ipHeaderLen(p.Dst)) || ((p.Proto == protoICMP || p.Proto == protoICMPv6) && p.Echo) {
			if !p.Matches(&q) {
				t.Fatalf("a PTB does not match the quote built from itself: %+v", p)
			}
		}
	})
}
