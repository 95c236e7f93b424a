package probe

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/mtukit/mtukit/icmpquote"
)

// IP protocol numbers of quoted packets.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// ICMP types and codes of interest.
const (
	icmp4EchoReply    = 0
	icmp4Unreach      = 3
	icmp4FragNeeded   = 4 // code of type 3
	icmp4Echo         = 8
	icmp6PacketTooBig = 2
	icmp6Echo         = 128
	icmp6EchoReply    = 129
)

// Errors of the PTB parser. ErrNotPTB is not malformed input: the message is
// some other ICMP type and the caller simply looks elsewhere.
var (
	ErrNotPTB      = errors.New("not a packet too big message")
	ErrShortICMP   = errors.New("icmp message shorter than its 8-byte header")
	ErrShortQuote  = errors.New("quoted packet shorter than an ip header and 8 bytes")
	ErrQuoteFamily = errors.New("quoted packet is not of the message's ip version")
	ErrBadIHL      = errors.New("quoted ipv4 header length below 20 bytes")
)

// PTB is a parsed ICMPv4 "fragmentation needed" (type 3 code 4, RFC 1191) or
// ICMPv6 "packet too big" (type 2, RFC 8201), with the fields of the quoted
// packet needed to match it to a probe. Parse fills a caller-owned PTB and
// never allocates; Payload aliases the input.
type PTB struct {
	IPv6 bool
	// MTU is the next-hop MTU the router reports (0 from pre-RFC 1191
	// routers, which leave the field unused).
	MTU int

	// The quoted packet.
	Src, Dst netip.Addr
	Proto    uint8
	// Size is the quoted packet's full size as its header states it (IPv4
	// total length; IPv6 payload length + 40): the size of the probe.
	Size int
	// Transport fields, from the first 8 bytes after the IP header.
	SrcPort, DstPort uint16 // UDP and TCP
	UDPLen           int    // UDP length field
	EchoID, EchoSeq  uint16 // echo requests (Echo true)
	Echo             bool
	// Payload is what the router quoted beyond the 8 transport bytes
	// (RFC 792 guarantees none; RFC 1812 and RFC 4443 routers quote more).
	Payload []byte
}

// ParseICMPv4 parses an ICMPv4 message (starting at its ICMP header, as a
// raw socket delivers it once the IP header is stripped) into p. It returns
// ErrNotPTB for every other type and code.
func ParseICMPv4(msg []byte, p *PTB) error {
	if len(msg) < 8 {
		return ErrShortICMP
	}
	if msg[0] != icmp4Unreach || msg[1] != icmp4FragNeeded {
		return ErrNotPTB
	}
	*p = PTB{MTU: int(binary.BigEndian.Uint16(msg[6:8]))}
	return parseQuote(msg[8:], 4, p)
}

// parseQuote reads the quoted packet q of an ICMP message of the given
// family: its IP header (by icmpquote) and the 8 transport bytes every
// router quotes.
func parseQuote(q []byte, family uint8, p *PTB) error {
	least := 20
	if family == 6 {
		least = 40
	}
	if len(q) < least+8 {
		return ErrShortQuote
	}
	if q[0]>>4 != family {
		return ErrQuoteFamily
	}
	var h icmpquote.Quote
	switch err := icmpquote.Parse(q, &h); err {
	case nil:
	case icmpquote.ErrHeaderLen:
		return ErrBadIHL
	default:
		return ErrShortQuote
	}
	if len(q) < h.HdrLen+8 {
		return ErrShortQuote
	}
	p.Size = h.TotalLen
	// the IP header's own protocol: a quote with IPv6 extension headers
	// matches no probe
	p.Proto = h.NextHeader
	if family == 4 {
		p.Src = netip.AddrFrom4([4]byte(h.Src[:4]))
		p.Dst = netip.AddrFrom4([4]byte(h.Dst[:4]))
		parseTransport(p, q[h.HdrLen:], icmp4Echo)
	} else {
		p.Src = netip.AddrFrom16(h.Src)
		p.Dst = netip.AddrFrom16(h.Dst)
		parseTransport(p, q[h.HdrLen:], icmp6Echo)
	}
	return nil
}

// ParseICMPv6 parses an ICMPv6 message (as a raw ICMPv6 socket delivers it,
// without the IPv6 header) into p. It returns ErrNotPTB for every other type.
// A quoted packet with extension headers keeps Proto at the first next-header
// value and no transport fields.
func ParseICMPv6(msg []byte, p *PTB) error {
	if len(msg) < 8 {
		return ErrShortICMP
	}
	if msg[0] != icmp6PacketTooBig {
		return ErrNotPTB
	}
	*p = PTB{IPv6: true, MTU: int(min(binary.BigEndian.Uint32(msg[4:8]), 1<<31-1))}
	return parseQuote(msg[8:], 6, p)
}

// ErrNotTimeExceeded is ParseTimeExceeded's answer for other messages.
var ErrNotTimeExceeded = errors.New("not a time exceeded message")

// ParseTimeExceeded parses an ICMPv4 (type 11 code 0) or ICMPv6 (type 3
// code 0) "time exceeded in transit" into p (MTU 0), for --hops: which
// router a probe of limited TTL reached.
func ParseTimeExceeded(msg []byte, v6 bool, p *PTB) error {
	if len(msg) < 8 {
		return ErrShortICMP
	}
	*p = PTB{IPv6: v6}
	if v6 {
		if msg[0] != 3 || msg[1] != 0 {
			return ErrNotTimeExceeded
		}
		return parseQuote(msg[8:], 6, p)
	}
	if msg[0] != 11 || msg[1] != 0 {
		return ErrNotTimeExceeded
	}
	return parseQuote(msg[8:], 4, p)
}

func parseTransport(p *PTB, t []byte, echoType byte) {
	switch p.Proto {
	case protoUDP, protoTCP:
		p.SrcPort = binary.BigEndian.Uint16(t[0:2])
		p.DstPort = binary.BigEndian.Uint16(t[2:4])
		if p.Proto == protoUDP {
			p.UDPLen = int(binary.BigEndian.Uint16(t[4:6]))
		}
	case protoICMP, protoICMPv6:
		if (p.Proto == protoICMP) == (echoType == icmp4Echo) && t[0] == echoType && t[1] == 0 {
			p.Echo = true
			p.EchoID = binary.BigEndian.Uint16(t[4:6])
			p.EchoSeq = binary.BigEndian.Uint16(t[6:8])
		}
	}
	p.Payload = t[8:]
}

// StripIPv4 returns the source address and the payload of an IPv4 packet as
// a raw IPv4 socket delivers it (header included).
func StripIPv4(pkt []byte) (netip.Addr, []byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return netip.Addr{}, nil, errors.New("not an ipv4 packet")
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || len(pkt) < ihl {
		return netip.Addr{}, nil, ErrBadIHL
	}
	return netip.AddrFrom4([4]byte(pkt[12:16])), pkt[ihl:], nil
}

// Quote is what a PTB must quote to be accepted for a probe in flight.
type Quote struct {
	Src, Dst netip.Addr
	Proto    uint8
	// Echo probes: identifier and sequence. UDP probes: ports.
	EchoID, EchoSeq  uint16
	SrcPort, DstPort uint16
	// Size is the probe's IP packet size.
	Size int
	// Tag, when not nil, must be the start of the quoted transport payload
	// whenever the router quoted that far (the probe's magic, sequence
	// and nonce for UDP probes).
	Tag []byte
}

// Matches reports whether p quotes the probe q (RFC 8899 §4.6.1, RFC 5927
// §4.1): same addresses, protocol, identifier or ports, same size, and the
// probe's tag where the quote reaches it.
func (p *PTB) Matches(q *Quote) bool {
	if p.Src != q.Src || p.Dst != q.Dst || p.Proto != q.Proto || p.Size != q.Size {
		return false
	}
	switch q.Proto {
	case protoICMP, protoICMPv6:
		if !p.Echo || p.EchoID != q.EchoID || p.EchoSeq != q.EchoSeq {
			return false
		}
	case protoUDP:
		if p.SrcPort != q.SrcPort || p.DstPort != q.DstPort || p.UDPLen != q.Size-ipHeaderLen(q.Dst) {
			return false
		}
	default:
		return false
	}
	n := min(len(p.Payload), len(q.Tag))
	for i := 0; i < n; i++ {
		if p.Payload[i] != q.Tag[i] {
			return false
		}
	}
	return true
}

// Usable reports whether the PTB's MTU may lower the estimate of a probe of
// size probe: below the probe and at least the minimum the family allows
// (68 for IPv4, RFC 791; 1280 for IPv6, RFC 8200) and min (the search's
// floor). RFC 8899 §4.6.2.
func (p *PTB) Usable(probe, floor int) bool {
	least := 68
	if p.IPv6 {
		least = 1280
	}
	return p.MTU < probe && p.MTU >= least && p.MTU >= floor
}

func ipHeaderLen(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return 20
	}
	return 40
}
