package mss

import (
	"encoding/binary"

	"github.com/mtukit/mtukit/encap"
)

// Framing is what comes before the IP header in a packet buffer.
type Framing uint8

const (
	// FrameIP: the buffer starts with an IPv4 or IPv6 header, told apart by
	// the version nibble (pcap LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6).
	FrameIP Framing = iota
	// FrameEthernet: Ethernet II, then any mix of up to 8 802.1Q / 802.1ad
	// (QinQ) tags, then IPv4, IPv6 or a PPPoE session carrying either.
	FrameEthernet
	// FrameLinuxSLL: Linux cooked capture v1, 16 bytes (tcpdump -i any).
	FrameLinuxSLL
	// FrameLinuxSLL2: Linux cooked capture v2, 20 bytes.
	FrameLinuxSLL2
	// FrameNull: BSD loopback, a 4-byte address family in host order.
	FrameNull
	// FramePPP: PPP (LINKTYPE_PPP), with or without the ff 03 address and
	// control bytes, 1- or 2-byte protocol field.
	FramePPP
)

var framingNames = [...]string{"ip", "ethernet", "linux-sll", "linux-sll2", "null", "ppp"}

func (f Framing) String() string {
	if int(f) < len(framingNames) {
		return framingNames[f]
	}
	return "framing?"
}

// EtherTypes and protocol numbers the parser follows.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQ1  = 0x9100 // pre-standard QinQ
	etherQinQ2  = 0x9200
	etherPPPoES = 0x8864
	pppIPv4     = 0x0021
	pppIPv6     = 0x0057
	protoTCP    = 6
	maxTags     = 8
	maxExtHdrs  = 8
)

// packet is where the headers of one packet are, as found by locate.
type packet struct {
	family   encap.Family
	l3, l4   int  // offsets of the IP and TCP headers
	end      int  // end of the IP packet in the buffer (IP length, or the buffer end if shorter)
	whole    bool // the buffer holds the whole IP packet, and its length field is exact
	moreFrag bool // a first fragment: more fragments follow
	pppoeLen int  // offset of the PPPoE length field; -1 without PPPoE
}

// locate finds the IP and TCP headers of buf. It returns reasonNone when
// the packet is a TCP segment with a complete 20-byte TCP header inside the
// IP packet; otherwise why not.
func locate(buf []byte, fr Framing) (packet, Reason) {
	p := packet{pppoeLen: -1}
	l3, family, r := p.link(buf, fr)
	if r != ReasonNone {
		return p, r
	}
	if len(buf) <= l3 {
		return p, ReasonShort
	}
	v := buf[l3] >> 4
	if family == 0 {
		switch v {
		case 4:
			family = encap.IPv4
		case 6:
			family = encap.IPv6
		default:
			return p, ReasonNotIP
		}
	}
	p.family, p.l3 = family, l3
	if family == encap.IPv4 {
		r = p.ipv4(buf, v)
	} else {
		r = p.ipv6(buf, v)
	}
	if r != ReasonNone {
		return p, r
	}
	if p.end-p.l4 < TCPHeaderLen {
		if p.end == len(buf) && !p.whole {
			return p, ReasonShort
		}
		return p, ReasonBadHeader
	}
	return p, ReasonNone
}

// link is the framing table: it returns the offset of the IP header and its
// family (0: decide by the version nibble).
func (p *packet) link(buf []byte, fr Framing) (int, encap.Family, Reason) {
	switch fr {
	case FrameIP:
		return 0, 0, ReasonNone
	case FrameEthernet:
		return p.ethernet(buf)
	case FrameLinuxSLL:
		return sll(buf, 16, 14)
	case FrameLinuxSLL2:
		return sll(buf, 20, 0)
	case FrameNull:
		if len(buf) < 4 {
			return 0, 0, ReasonShort
		}
		return 4, 0, ReasonNone // the family's value differs by OS; the version nibble decides
	case FramePPP:
		return ppp(buf, 0)
	}
	return 0, 0, ReasonNotIP
}

// etherFamily is the EtherType table: the IP family an EtherType carries.
func etherFamily(et uint16) (encap.Family, Reason) {
	switch et {
	case etherIPv4:
		return encap.IPv4, ReasonNone
	case etherIPv6:
		return encap.IPv6, ReasonNone
	}
	return 0, ReasonNotIP
}

func isVLAN(et uint16) bool {
	return et == etherVLAN || et == etherQinQ || et == etherQinQ1 || et == etherQinQ2
}

// ethernet walks an Ethernet II header, up to maxTags VLAN tags and a PPPoE
// session header.
func (p *packet) ethernet(buf []byte) (int, encap.Family, Reason) {
	if len(buf) < 14 {
		return 0, 0, ReasonShort
	}
	et := binary.BigEndian.Uint16(buf[12:])
	off := 14
	for tags := 0; isVLAN(et); tags++ {
		if tags == maxTags {
			return 0, 0, ReasonNotIP
		}
		if len(buf) < off+4 {
			return 0, 0, ReasonShort
		}
		et = binary.BigEndian.Uint16(buf[off+2:])
		off += 4
	}
	if et == etherPPPoES {
		return p.pppoe(buf, off)
	}
	f, r := etherFamily(et)
	return off, f, r
}

// pppoe reads a PPPoE session header at off and its 2-byte PPP protocol.
func (p *packet) pppoe(buf []byte, off int) (int, encap.Family, Reason) {
	if len(buf) < off+8 {
		return 0, 0, ReasonShort
	}
	if buf[off] != 0x11 || buf[off+1] != 0 { // version 1, type 1, session data
		return 0, 0, ReasonNotIP
	}
	f, r := pppFamily(binary.BigEndian.Uint16(buf[off+6:]))
	if r != ReasonNone {
		return 0, 0, r
	}
	p.pppoeLen = off + 4
	return off + 8, f, ReasonNone
}

// sll reads a Linux cooked header of hl bytes with its protocol at po.
func sll(buf []byte, hl, po int) (int, encap.Family, Reason) {
	if len(buf) < hl {
		return 0, 0, ReasonShort
	}
	f, r := etherFamily(binary.BigEndian.Uint16(buf[po:]))
	return hl, f, r
}

// ppp reads a PPP header at off, with or without the ff 03 address and
// control bytes, with a 1- or 2-byte protocol field.
func ppp(buf []byte, off int) (int, encap.Family, Reason) {
	if len(buf) >= off+2 && buf[off] == 0xff && buf[off+1] == 0x03 {
		off += 2
	}
	if len(buf) < off+1 {
		return 0, 0, ReasonShort
	}
	proto := uint16(buf[off])
	if proto&1 == 0 { // 2-byte protocol field (RFC 1661 §2: the last byte is odd)
		if len(buf) < off+2 {
			return 0, 0, ReasonShort
		}
		proto = binary.BigEndian.Uint16(buf[off:])
		off += 2
	} else {
		off++
	}
	f, r := pppFamily(proto)
	return off, f, r
}

// pppFamily is the PPP protocol table: the IP family a protocol carries.
func pppFamily(proto uint16) (encap.Family, Reason) {
	switch proto {
	case pppIPv4:
		return encap.IPv4, ReasonNone
	case pppIPv6:
		return encap.IPv6, ReasonNone
	}
	return 0, ReasonNotIP
}

func (p *packet) ipv4(buf []byte, version byte) Reason {
	l3 := p.l3
	if len(buf) < l3+20 {
		return ReasonShort
	}
	if version != 4 {
		return ReasonBadHeader
	}
	ihl := int(buf[l3]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(buf[l3+2:]))
	tso := total == 0 // captured before TCP segmentation offload (Wireshark presumes the same)
	if ihl < 20 || (total < ihl && !tso) {
		return ReasonBadHeader
	}
	if len(buf) < l3+ihl {
		return ReasonShort
	}
	if buf[l3+9] != protoTCP {
		return ReasonNotTCP
	}
	frag := binary.BigEndian.Uint16(buf[l3+6:])
	if frag&0x1fff != 0 {
		return ReasonFragment
	}
	p.moreFrag = frag&0x2000 != 0
	p.l4 = l3 + ihl
	p.end, p.whole = l3+total, true
	if p.end > len(buf) || tso {
		p.end, p.whole = len(buf), false
	}
	return ReasonNone
}

func (p *packet) ipv6(buf []byte, version byte) Reason {
	l3 := p.l3
	if len(buf) < l3+40 {
		return ReasonShort
	}
	if version != 6 {
		return ReasonBadHeader
	}
	plen := int(binary.BigEndian.Uint16(buf[l3+4:]))
	p.end, p.whole = l3+40+plen, true
	if plen == 0 || p.end > len(buf) { // a jumbogram (RFC 2675) or a cut capture
		p.end, p.whole = len(buf), false
	}
	nh, off := buf[l3+6], l3+40
	// The extension headers Linux's ipv6_skip_exthdr skips; any other next
	// header is the upper layer.
	for i := 0; ; i++ {
		if nh == protoTCP {
			break
		}
		if i == maxExtHdrs {
			return ReasonNotTCP
		}
		switch nh {
		case 0, 43, 60, 44, 51: // hop-by-hop, routing, destination options, fragment, AH
		default:
			return ReasonNotTCP // including 59 (no next header) and 50 (ESP)
		}
		if off+8 > p.end {
			if p.end == len(buf) && !p.whole {
				return ReasonShort
			}
			return ReasonBadHeader
		}
		var hl int
		switch nh {
		case 44:
			fo := binary.BigEndian.Uint16(buf[off+2:])
			if fo&0xfff8 != 0 {
				return ReasonFragment
			}
			p.moreFrag = fo&1 != 0
			hl = 8
		case 51:
			hl = (int(buf[off+1]) + 2) * 4
		default:
			hl = (int(buf[off+1]) + 1) * 8
		}
		nh = buf[off]
		off += hl
	}
	if off > p.end {
		if p.end == len(buf) && !p.whole {
			return ReasonShort
		}
		return ReasonBadHeader
	}
	p.l4 = off
	return ReasonNone
}

// LinkFraming maps a pcap/pcapng link type (the LINKTYPE_ values of
// https://www.tcpdump.org/linktypes.html) to the framing of its packets.
func LinkFraming(linkType int) (Framing, bool) {
	switch linkType {
	case 1: // LINKTYPE_ETHERNET
		return FrameEthernet, true
	case 101, 12, 14, 228, 229: // LINKTYPE_RAW (and the DLT_RAW values some writers use), IPV4, IPV6
		return FrameIP, true
	case 113: // LINKTYPE_LINUX_SLL
		return FrameLinuxSLL, true
	case 276: // LINKTYPE_LINUX_SLL2
		return FrameLinuxSLL2, true
	case 0, 108: // LINKTYPE_NULL, LINKTYPE_LOOP
		return FrameNull, true
	case 9, 50: // LINKTYPE_PPP, LINKTYPE_PPP_HDLC
		return FramePPP, true
	}
	return 0, false
}
