package mss

import (
	"encoding/binary"

	"github.com/mtukit/mtukit/encap"
)

// Framing is what comes before the IP header in a packet buffer: one per
// pcap link type the locator reads (LinkFraming maps them), and a few that
// only appear inside other headers.
type Framing uint8

const (
	// FrameIP: the buffer starts with an IPv4 or IPv6 header, told apart by
	// the version nibble (pcap LINKTYPE_RAW).
	FrameIP Framing = iota
	// FrameEthernet: Ethernet II or 802.3 with LLC/SNAP, then any stack of
	// 802.1Q / 802.1ad tags, 802.1ah I-TAGs, MACsec (integrity only), NSH,
	// MPLS, PPPoE sessions... (the EtherType table of Locate) to IP.
	FrameEthernet
	// FrameLinuxSLL: Linux cooked capture v1, 16 bytes (tcpdump -i any).
	FrameLinuxSLL
	// FrameLinuxSLL2: Linux cooked capture v2, 20 bytes.
	FrameLinuxSLL2
	// FrameNull: BSD loopback, a 4-byte address family.
	FrameNull
	// FramePPP: PPP (LINKTYPE_PPP, LINKTYPE_PPP_HDLC), with or without the
	// ff 03 address and control bytes, 1- or 2-byte protocol field; a Cisco
	// HDLC header is read too, as tcpdump and Wireshark do.
	FramePPP
	// FrameIPv4 and FrameIPv6: an IP header of that version (LINKTYPE_IPV4,
	// LINKTYPE_IPV6).
	FrameIPv4
	FrameIPv6
	// FramePPPDir: a direction byte, then PPP (LINKTYPE_PPP_WITH_DIR).
	FramePPPDir
	// FramePPPoE: a PPPoE session header, then PPP (LINKTYPE_PPP_ETHER).
	FramePPPoE
	// FrameCHDLC: Cisco HDLC (LINKTYPE_C_HDLC).
	FrameCHDLC
	// FrameIPoIB: IP over InfiniBand (LINKTYPE_IPOIB).
	FrameIPoIB
	// FrameNFLOG: Linux NFLOG (LINKTYPE_NFLOG).
	FrameNFLOG
	// FrameARCNET: ARCNET with Linux's header (LINKTYPE_ARCNET_LINUX).
	FrameARCNET
	// FrameMPLS: an MPLS label stack (MPLS in IP or UDP).
	FrameMPLS
	numFramings
)

var framingNames = [numFramings]string{"ip", "ethernet", "linux-sll", "linux-sll2", "null", "ppp",
	"ipv4", "ipv6", "ppp-with-dir", "pppoe", "c-hdlc", "ipoib", "nflog", "arcnet", "mpls"}

func (f Framing) String() string {
	if f < numFramings {
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
	maxExtHdrs  = 8
)

// packet is where the headers of one packet are, as found by locate.
type packet struct {
	family    encap.Family
	l3, l4    int  // offsets of the IP and TCP headers
	end       int  // end of the IP packet in the buffer (IP length, or the buffer end if shorter)
	whole     bool // the buffer holds the whole IP packet, and its length field is exact
	moreFrag  bool // a first fragment: more fragments follow
	pppoeLen  int  // offset of the PPPoE length field; -1 without PPPoE
	protected bool // inside MACsec with integrity only
}

// locate finds the IP and TCP headers of buf. It returns reasonNone when
// the packet is a TCP segment with a complete 20-byte TCP header inside the
// IP packet; otherwise why not.
func locate(buf []byte, fr Framing) (packet, Reason) {
	p := packet{pppoeLen: -1}
	var l Link
	Locate(buf, fr, &l)
	if l.Reason != ReasonNone {
		return p, l.Reason
	}
	p.protected = l.Protected
	l3, family, r := l.Off, l.Family, ReasonNone
	p.pppoeLen = l.PPPoELen
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
	case 101, 12, 14: // LINKTYPE_RAW (and the DLT_RAW values some writers use)
		return FrameIP, true
	case 228: // LINKTYPE_IPV4
		return FrameIPv4, true
	case 229: // LINKTYPE_IPV6
		return FrameIPv6, true
	case 113: // LINKTYPE_LINUX_SLL
		return FrameLinuxSLL, true
	case 276: // LINKTYPE_LINUX_SLL2
		return FrameLinuxSLL2, true
	case 0, 108: // LINKTYPE_NULL, LINKTYPE_LOOP
		return FrameNull, true
	case 9, 50: // LINKTYPE_PPP, LINKTYPE_PPP_HDLC
		return FramePPP, true
	case 51: // LINKTYPE_PPP_ETHER
		return FramePPPoE, true
	case 204: // LINKTYPE_PPP_WITH_DIR
		return FramePPPDir, true
	case 104: // LINKTYPE_C_HDLC
		return FrameCHDLC, true
	case 242: // LINKTYPE_IPOIB
		return FrameIPoIB, true
	case 239: // LINKTYPE_NFLOG
		return FrameNFLOG, true
	case 129: // LINKTYPE_ARCNET_LINUX
		return FrameARCNET, true
	}
	return 0, false
}
