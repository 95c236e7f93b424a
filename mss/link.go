package mss

import (
	"encoding/binary"

	"github.com/mtukit/mtukit/encap"
)

// LinkLayer names one header the link locator walks between the start of a
// frame and its first IP header.
type LinkLayer uint8

const (
	LinkNone     LinkLayer = iota
	LinkEthernet           // Ethernet II (also inside an MPLS pseudowire, GRE TEB...)
	LinkVLAN               // 802.1Q C-tag (0x8100)
	LinkQinQ               // 802.1ad S-tag (0x88a8) and the pre-standard 0x9100, 0x9200
	LinkPBB                // 802.1ah I-TAG (0x88e7) with the customer addresses
	LinkMACsec             // 802.1AE SecTAG (0x88e5), integrity only
	LinkNSH                // network service header (RFC 8300, 0x894f)
	LinkLLC                // 802.2 LLC with SNAP
	LinkMPLS               // one MPLS label
	LinkPPPoE              // PPPoE session header with its PPP protocol field
	LinkPPP                // PPP (address/control optional, 1- or 2-byte protocol)
	LinkCHDLC              // Cisco HDLC
	LinkSLL                // Linux cooked header v1
	LinkSLL2               // Linux cooked header v2
	LinkNull               // BSD loopback address family
	LinkIPoIB              // IP over InfiniBand (RFC 4391, with the 40-byte address area)
	LinkNFLOG              // Linux NFLOG header and its TLVs
	LinkARCNET             // ARCNET (Linux header, RFC 1051 or RFC 1201)
	numLinkLayers
)

var linkLayerNames = [numLinkLayers]string{
	"", "eth", "vlan", "qinq", "pbb", "macsec", "nsh", "llc", "mpls", "pppoe", "ppp", "chdlc",
	"sll", "sll2", "null", "ipoib", "nflog", "arcnet",
}

func (l LinkLayer) String() string {
	if l < numLinkLayers {
		return linkLayerNames[l]
	}
	return "link?"
}

// MaxLinkLayers bounds the headers one Locate call walks (VLAN tags of any
// depth count one each); a frame with more is a bad header, never a loop.
const MaxLinkLayers = 16

// Link is what Locate found: the link headers, outermost first, and where
// the IP header starts. It is filled in place, so a caller that keeps one
// Link per stream locates without allocating.
type Link struct {
	// Reason is ReasonNone when an IP header starts at Off; ReasonNotIP when
	// the frame carries something else (ARP, LCP, an encrypted MACsec
	// frame...); ReasonShort when the buffer ends inside the header at Off
	// (the locator cannot tell a snap-length cut from a short frame: the
	// caller that knows the original length can); ReasonBadHeader when the
	// header at Off cannot be right (Msg says why).
	Reason Reason
	Off    int
	// Family is the IP family at Off; 0 when the framing does not say and
	// the version nibble decides (raw IP, BSD loopback with an unknown family).
	Family encap.Family
	// At is the layer of the header at Off that ended the walk short or bad.
	At  LinkLayer
	Msg string // for ReasonBadHeader: what is wrong
	// PPPoELen is the offset of the PPPoE length field, -1 without PPPoE.
	PPPoELen int
	// Protected is set when MACsec's integrity check covers the IP packet:
	// rewriting it would break the ICV.
	Protected bool
	Layers    [MaxLinkLayers]LinkLayer
	N         int
}

// EtherTypes and PPP protocols of the tables below.
const (
	etherTEB     = 0x6558 // transparent Ethernet bridging
	etherPBB     = 0x88e7
	etherMACsec  = 0x88e5
	etherNSH     = 0x894f
	etherMPLS    = 0x8847
	etherMPLSMul = 0x8848
	etherPPP     = 0x880b // PPP over GRE (PPTP)
	pppMPLS      = 0x0281
	pppMPLSMul   = 0x0283
)

// reset starts a walk. Only what every answer reads is cleared: Reason,
// Off and Family are set by the walk's end, At and Msg only matter with
// the reasons that set them, Layers only up to N.
func (l *Link) reset() {
	l.N, l.PPPoELen, l.Protected, l.Family, l.At, l.Msg = 0, -1, false, 0, LinkNone, ""
}

func (l *Link) push(at LinkLayer, off int) bool {
	if l.N == MaxLinkLayers {
		l.bad(at, off, "more than 16 nested headers")
		return false
	}
	l.Layers[l.N] = at
	l.N++
	return true
}

func (l *Link) short(at LinkLayer, off int) {
	l.Reason, l.At, l.Off = ReasonShort, at, off
}

func (l *Link) bad(at LinkLayer, off int, msg string) {
	l.Reason, l.At, l.Off, l.Msg = ReasonBadHeader, at, off, msg
}

func (l *Link) found(off int, f encap.Family) {
	l.Reason, l.Off, l.Family = ReasonNone, off, f
}

func (l *Link) notIP(off int) {
	l.Reason, l.Off = ReasonNotIP, off
}

// Locate walks the link headers of buf, framed as fr, to its first IP
// header and fills l. It is the one frame locator of mtukit: the clamp
// finds SYNs with it and the capture decoder reads every frame's link part
// with it. It never allocates and never reads outside buf.
func Locate(buf []byte, fr Framing, l *Link) {
	l.reset()
	if fr == FrameEthernet && len(buf) >= 14 {
		// the common case first: Ethernet II straight to IP
		switch binary.BigEndian.Uint16(buf[12:]) {
		case etherIPv4:
			l.Layers[0], l.N = LinkEthernet, 1
			l.found(14, encap.IPv4)
			return
		case etherIPv6:
			l.Layers[0], l.N = LinkEthernet, 1
			l.found(14, encap.IPv6)
			return
		}
	}
	switch fr {
	case FrameIP:
		l.found(0, 0)
	case FrameIPv4:
		l.found(0, encap.IPv4)
	case FrameIPv6:
		l.found(0, encap.IPv6)
	case FrameEthernet:
		l.ethernet(buf, 0)
	case FrameLinuxSLL:
		l.sll(buf, 16, 14, 2, LinkSLL)
	case FrameLinuxSLL2:
		l.sll(buf, 20, 0, 8, LinkSLL2)
	case FrameNull:
		l.null(buf)
	case FramePPP:
		l.ppp(buf, 0, true)
	case FramePPPDir:
		if len(buf) < 1 {
			l.short(LinkPPP, 0)
			return
		}
		l.ppp(buf, 1, true)
	case FramePPPoE:
		l.pppoe(buf, 0)
	case FrameCHDLC:
		l.chdlc(buf, 0)
	case FrameIPoIB:
		l.ipoib(buf)
	case FrameNFLOG:
		l.nflog(buf)
	case FrameARCNET:
		l.arcnet(buf)
	case FrameMPLS:
		l.mpls(buf, 0)
	default:
		l.notIP(0)
	}
}

// LocateEther walks buf as the payload of a header whose protocol field
// holds the EtherType et (GRE, Geneve), to the first IP header.
func LocateEther(buf []byte, et uint16, l *Link) {
	l.reset()
	l.ether(buf, 0, et)
}

// ether is the EtherType table: what follows a header whose type field
// says et, at off.
func (l *Link) ether(buf []byte, off int, et uint16) {
	switch et {
	case etherIPv4:
		l.found(off, encap.IPv4)
	case etherIPv6:
		l.found(off, encap.IPv6)
	case etherVLAN:
		l.vlan(buf, off, LinkVLAN)
	case etherQinQ, etherQinQ1, etherQinQ2:
		l.vlan(buf, off, LinkQinQ)
	case etherPPPoES:
		l.pppoe(buf, off)
	case etherMPLS, etherMPLSMul:
		l.mpls(buf, off)
	case etherTEB:
		l.ethernet(buf, off)
	case etherPBB:
		l.pbb(buf, off)
	case etherMACsec:
		l.macsec(buf, off)
	case etherNSH:
		l.nsh(buf, off)
	case etherPPP:
		l.ppp(buf, off, false)
	default:
		l.notIP(off)
	}
}

// ethernet reads an Ethernet II header at off, or an 802.3 header whose
// LLC/SNAP header names an EtherType.
func (l *Link) ethernet(buf []byte, off int) {
	if len(buf) < off+14 {
		l.short(LinkEthernet, off)
		return
	}
	if !l.push(LinkEthernet, off) {
		return
	}
	et := binary.BigEndian.Uint16(buf[off+12:])
	if et <= 1500 { // an 802.3 length: LLC follows
		l.llc(buf, off+14)
		return
	}
	l.ether(buf, off+14, et)
}

// llc reads an 802.2 LLC header at off: only SNAP (aa aa 03) with an
// EtherType (OUI 00-00-00 or 00-00-f8) carries IP the locator follows.
func (l *Link) llc(buf []byte, off int) {
	if len(buf) < off+3 {
		l.short(LinkLLC, off)
		return
	}
	if buf[off] != 0xaa || buf[off+1] != 0xaa || buf[off+2] != 0x03 {
		l.notIP(off)
		return
	}
	if len(buf) < off+8 {
		l.short(LinkLLC, off)
		return
	}
	if buf[off+3] != 0 || buf[off+4] != 0 || (buf[off+5] != 0 && buf[off+5] != 0xf8) {
		l.notIP(off)
		return
	}
	if !l.push(LinkLLC, off) {
		return
	}
	l.ether(buf, off+8, binary.BigEndian.Uint16(buf[off+6:]))
}

// vlan reads one 802.1Q/802.1ad tag at off; the EtherType table loops
// over a stack of any depth (bounded by MaxLinkLayers).
func (l *Link) vlan(buf []byte, off int, at LinkLayer) {
	if len(buf) < off+4 {
		l.short(at, off)
		return
	}
	if !l.push(at, off) {
		return
	}
	l.ether(buf, off+4, binary.BigEndian.Uint16(buf[off+2:]))
}

// pbb reads an 802.1ah I-TAG (4 bytes: PCP, DEI, UCA, reserved, I-SID) and
// the customer destination and source addresses and EtherType after it.
func (l *Link) pbb(buf []byte, off int) {
	if len(buf) < off+18 {
		l.short(LinkPBB, off)
		return
	}
	if !l.push(LinkPBB, off) {
		return
	}
	l.ether(buf, off+18, binary.BigEndian.Uint16(buf[off+16:]))
}

// macsec reads an 802.1AE SecTAG after the 0x88e5 EtherType: TCI/AN, short
// length, packet number, the SCI when the SC bit is set. Only an
// integrity-only frame (E and C clear) has its EtherType and packet in the
// clear; the 16-byte ICV trails it.
func (l *Link) macsec(buf []byte, off int) {
	if len(buf) < off+6 {
		l.short(LinkMACsec, off)
		return
	}
	tci := buf[off]
	if tci&0x80 != 0 { // V: version 0 only
		l.bad(LinkMACsec, off, "SecTAG version bit set")
		return
	}
	h := 6
	if tci&0x20 != 0 { // SC: explicit secure channel identifier
		h += 8
	}
	if !l.push(LinkMACsec, off) {
		return
	}
	if len(buf) < off+h {
		l.short(LinkMACsec, off)
		return
	}
	if tci&0x0c != 0 { // E or C: encrypted or changed text, the EtherType is hidden
		l.notIP(off + h)
		return
	}
	if len(buf) < off+h+2 {
		l.short(LinkMACsec, off)
		return
	}
	l.Protected = true
	l.ether(buf, off+h+2, binary.BigEndian.Uint16(buf[off+h:]))
}

// nsh reads a network service header (RFC 8300 §2.2): version 0, Length
// in 4-byte words (at least the 8-byte base and service path headers),
// next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
func (l *Link) nsh(buf []byte, off int) {
	if len(buf) < off+8 {
		l.short(LinkNSH, off)
		return
	}
	if buf[off]>>6 != 0 {
		l.bad(LinkNSH, off, "version "+itoa(int(buf[off]>>6)))
		return
	}
	n := int(buf[off+1]&0x3f) * 4
	if n < 8 {
		l.bad(LinkNSH, off, "length "+itoa(n)+" (< 8)")
		return
	}
	if len(buf) < off+n {
		l.short(LinkNSH, off)
		return
	}
	if !l.push(LinkNSH, off) {
		return
	}
	switch off += n; buf[off-n+3] {
	case 1:
		l.found(off, encap.IPv4)
	case 2:
		l.found(off, encap.IPv6)
	case 3:
		l.ethernet(buf, off)
	case 4:
		l.nsh(buf, off)
	case 5:
		l.mpls(buf, off)
	default:
		l.notIP(off)
	}
}

// mpls reads an MPLS label stack at off and guesses what the bottom label
// carries by the first nibble: 4 IPv4, 6 IPv6, 0 a pseudowire control word
// and Ethernet (RFC 4385, 4448).
func (l *Link) mpls(buf []byte, off int) {
	for {
		if len(buf) < off+4 {
			l.short(LinkMPLS, off)
			return
		}
		if !l.push(LinkMPLS, off) {
			return
		}
		bottom := buf[off+2]&1 == 1
		off += 4
		if bottom {
			break
		}
	}
	if len(buf) == off {
		l.notIP(off)
		return
	}
	switch buf[off] >> 4 {
	case 4:
		l.found(off, encap.IPv4)
	case 6:
		l.found(off, encap.IPv6)
	case 0:
		if len(buf) < off+4 {
			l.short(LinkMPLS, off)
			return
		}
		l.ethernet(buf, off+4)
	default:
		l.notIP(off)
	}
}

// pppoe reads a PPPoE session header at off and the PPP protocol field
// after it. Version, type and code are not checked (RFC 2516 §4 fixes them
// at 1, 1 and 0): the session EtherType says PPP follows, and Wireshark
// reads the packet whatever they hold. The length field is not trusted
// for the packet's end (captures have it wrong where the IP length is
// right) but its place is kept for an inserted option.
func (l *Link) pppoe(buf []byte, off int) {
	if len(buf) < off+6 {
		l.short(LinkPPPoE, off)
		return
	}
	if !l.push(LinkPPPoE, off) {
		return
	}
	l.PPPoELen = off + 4
	l.pppProto(buf, off, off+6, LinkPPPoE)
}

// ppp reads a PPP header at off: the ff 03 address and control fields
// (absent with ACFC, RFC 1661 §6.6), then the protocol. With hdlc, a Cisco
// HDLC header (0f or 8f, 00) is taken too, as tcpdump and Wireshark do for
// the PPP link types.
func (l *Link) ppp(buf []byte, off int, hdlc bool) {
	if hdlc && len(buf) >= off+2 && (buf[off] == 0x0f || buf[off] == 0x8f) && buf[off+1] == 0 {
		l.chdlc(buf, off)
		return
	}
	if !l.push(LinkPPP, off) {
		return
	}
	p := off
	if len(buf) >= p+2 && buf[p] == 0xff && buf[p+1] == 0x03 {
		p += 2
	}
	l.pppProto(buf, off, p, LinkPPP)
}

// pppProto reads the PPP protocol field at p (of the header at hdr): one
// byte when the first is odd (protocol field compression, RFC 1661 §6.5),
// else two. In PPPoE the protocol follows the PPPoE header directly (RFC
// 2516 §4, §7): ff 03 there reads as protocol 0xff03, not IP, as Linux's
// ppp_generic and Wireshark read it.
func (l *Link) pppProto(buf []byte, hdr, p int, at LinkLayer) {
	if len(buf) < p+1 {
		l.short(at, hdr)
		return
	}
	proto := uint16(buf[p])
	if proto&1 == 0 {
		if len(buf) < p+2 {
			l.short(at, hdr)
			return
		}
		proto = binary.BigEndian.Uint16(buf[p:])
		p += 2
	} else {
		p++
	}
	switch proto {
	case pppIPv4:
		l.found(p, encap.IPv4)
	case pppIPv6:
		l.found(p, encap.IPv6)
	case pppMPLS, pppMPLSMul:
		l.mpls(buf, p)
	default:
		l.notIP(p)
	}
}

// chdlc reads a Cisco HDLC header at off: address (0f unicast, 8f
// broadcast), control 00, then an EtherType.
func (l *Link) chdlc(buf []byte, off int) {
	if len(buf) < off+4 {
		l.short(LinkCHDLC, off)
		return
	}
	if !l.push(LinkCHDLC, off) {
		return
	}
	l.ether(buf, off+4, binary.BigEndian.Uint16(buf[off+2:]))
}

// sll reads a Linux cooked header of hl bytes with the protocol at po and
// the ARPHRD type at ho. The protocol is an EtherType, or one of Linux's
// ETH_P values below 0x600 for frames that are not Ethernet II.
func (l *Link) sll(buf []byte, hl, po, ho int, at LinkLayer) {
	if len(buf) < hl {
		l.short(at, 0)
		return
	}
	l.push(at, 0)
	proto := binary.BigEndian.Uint16(buf[po:])
	switch proto {
	case 0x0004: // ETH_P_802_2: an LLC frame
		l.llc(buf, hl)
	case 0x0007: // ETH_P_WAN_PPP: generic-HDLC PPP, ff 03 and the protocol
		l.ppp(buf, hl, false)
	default:
		if proto < 0x0600 {
			l.notIP(hl) // ETH_P_802_3, CAN, netlink...
			return
		}
		l.ether(buf, hl, proto)
	}
}

// null reads a BSD loopback header: the address family in the writer's
// byte order (DLT_NULL) or network order (DLT_LOOP). AF_INET is 2 on every
// system; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD, Npcap), 28 (FreeBSD)
// or 30 (macOS).
func (l *Link) null(buf []byte) {
	if len(buf) < 4 {
		l.short(LinkNull, 0)
		return
	}
	l.push(LinkNull, 0)
	fam := binary.LittleEndian.Uint32(buf)
	if fam > 0xffff {
		fam = binary.BigEndian.Uint32(buf)
	}
	switch fam {
	case 2:
		l.found(4, encap.IPv4)
	case 10, 24, 28, 30:
		l.found(4, encap.IPv6)
	default:
		l.notIP(4)
	}
}

// ipoib reads LINKTYPE_IPOIB: a 40-byte area (the GRH, or the destination
// hardware address padded with zeros) then the RFC 4391 header, an
// EtherType and 2 reserved bytes. tcpdump (IPOIB_HDRLEN 44) and Wireshark
// read it so; the linktypes page's "begins with the 4-octet header" is not
// what captures hold.
func (l *Link) ipoib(buf []byte) {
	if len(buf) < 44 {
		l.short(LinkIPoIB, 0)
		return
	}
	l.push(LinkIPoIB, 0)
	l.ether(buf, 44, binary.BigEndian.Uint16(buf[40:]))
}

// nflog reads LINKTYPE_NFLOG: family (2 IPv4, 10 IPv6), version 0, resource
// id, then TLVs whose length and type are in the capturing host's byte
// order (the file's); the packet, from its network header, is the value of
// NFULA_PAYLOAD (9). A TLV's length counts its 4-byte header and not the
// padding to 4 bytes. The byte order is taken from the first TLV: the one
// whose type reads small (NFULA types are below 32).
func (l *Link) nflog(buf []byte) {
	if len(buf) < 4 {
		l.short(LinkNFLOG, 0)
		return
	}
	if buf[1] != 0 {
		l.bad(LinkNFLOG, 0, "version "+itoa(int(buf[1])))
		return
	}
	l.push(LinkNFLOG, 0)
	var f encap.Family
	switch buf[0] {
	case 2:
		f = encap.IPv4
	case 10:
		f = encap.IPv6
	}
	le := true
	if len(buf) >= 8 && binary.LittleEndian.Uint16(buf[6:])&0x7fff > 0xff {
		le = false
	}
	for off := 4; ; {
		if len(buf) == off {
			l.notIP(off) // no payload logged
			return
		}
		if len(buf) < off+4 {
			l.short(LinkNFLOG, off)
			return
		}
		var n, typ int
		if le {
			n, typ = int(binary.LittleEndian.Uint16(buf[off:])), int(binary.LittleEndian.Uint16(buf[off+2:]))
		} else {
			n, typ = int(binary.BigEndian.Uint16(buf[off:])), int(binary.BigEndian.Uint16(buf[off+2:]))
		}
		if n < 4 {
			l.bad(LinkNFLOG, off, "TLV length "+itoa(n)+" (< 4)")
			return
		}
		if typ&0x7fff == 9 { // NFULA_PAYLOAD: a cut one is the IP layer's to judge
			l.found(off+4, f)
			return
		}
		if len(buf) < off+n {
			l.short(LinkNFLOG, off)
			return
		}
		off += (n + 3) &^ 3
		if off > len(buf) { // the last TLV's padding was not captured
			off = len(buf)
		}
	}
}

// arcnet reads LINKTYPE_ARCNET_LINUX: source, destination, a 2-byte offset,
// then the protocol ID. RFC 1201 protocols (212 IPv4; 196 IPv6, RFC 2497)
// have a split flag and a 2-byte sequence number before the packet; RFC
// 1051's (240 IPv4) have none. ARP, RARP and the rest are not IP.
func (l *Link) arcnet(buf []byte) {
	if len(buf) < 5 {
		l.short(LinkARCNET, 0)
		return
	}
	l.push(LinkARCNET, 0)
	switch buf[4] {
	case 240:
		l.found(5, encap.IPv4)
	case 212, 196:
		if len(buf) < 8 {
			l.short(LinkARCNET, 0)
			return
		}
		if buf[4] == 212 {
			l.found(8, encap.IPv4)
		} else {
			l.found(8, encap.IPv6)
		}
	default:
		l.notIP(5)
	}
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
