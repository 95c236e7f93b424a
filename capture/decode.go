package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/icmpquote"
	"github.com/mtukit/mtukit/mss"
)

// Link types gopacket does not name (DLT_RAW as OpenBSD and some older
// systems number it).
const (
	linkTypeRawOld     layers.LinkType = 12
	linkTypeRawOpenBSD layers.LinkType = 14
)

// Protocol types the decoder looks at itself (GRE protocol types); the
// EtherType table of the link headers is mss.Locate's.
const (
	etherERSPAN2 = 0x88be // ERSPAN type II (type I over GRE without a sequence number)
	etherERSPAN3 = 0x22eb
	greAruba     = 0x8200 // Aruba's GRE: 0x8200 to 0x8370 in steps of 0x10, an 802.11 frame
	greArubaLast = 0x8370
)

// next says what the decoder looks at after a header: one step of decode,
// one method each. The link headers before the first IP header (and those
// a tunnel carries: Ethernet, MPLS) are walked by mss.Locate, the clamp's
// locator, in one step.
type next uint8

const (
	nStop next = iota
	nEthernet
	nIPv4
	nIPv6
	nIPGuess // IPv4 or IPv6 by the version nibble (raw IP, GTP-U)
	nMPLS
	nGRE
	nERSPAN2
	nERSPAN3
	nVXLAN
	nGeneve
	nGTPU
	nEtherIP
	nAYIYA
	nWLAN // an 802.11 data frame (Aruba's GRE)
)

// linkLayer names the locator's link headers in the report's terms.
var linkLayer = [...]Layer{
	mss.LinkNone: LayerNone, mss.LinkEthernet: LayerEthernet, mss.LinkVLAN: LayerVLAN, mss.LinkQinQ: LayerQinQ,
	mss.LinkPBB: LayerPBB, mss.LinkMACsec: LayerMACsec, mss.LinkNSH: LayerNSH, mss.LinkLLC: LayerLLC,
	mss.LinkMPLS: LayerMPLS, mss.LinkPPPoE: LayerPPPoE, mss.LinkPPP: LayerPPP, mss.LinkCHDLC: LayerCHDLC,
	mss.LinkSLL: LayerSLL, mss.LinkSLL2: LayerSLL2, mss.LinkNull: LayerNull, mss.LinkIPoIB: LayerIPoIB,
	mss.LinkNFLOG: LayerNFLOG, mss.LinkARCNET: LayerARCNET,
}

// Decoder decodes frames into Packets. It owns the gopacket layer structs it
// decodes tunnel headers into, so decoding allocates nothing on the common
// paths. A Decoder is not safe for concurrent use.
type Decoder struct {
	gre    layers.GRE
	erspan layers.ERSPANII
	vxlan  layers.VXLAN
	geneve layers.Geneve
	gtp    layers.GTPv1U
	lk     mss.Link // the link locator's result, reused
	// the framing of the last link type seen (files rarely change it)
	link          layers.LinkType
	fr            mss.Framing
	linkSet, frOK bool
	snap          bool   // the frame was cut by the snap length
	base          []byte // the buffer being decoded, to find a slice's offset in it
	wire          int    // the buffer's size on the wire
}

// wireLeft is how many bytes of the frame on the wire start at data (a
// slice of d.base): what a length field of 0 stands for.
func (d *Decoder) wireLeft(data []byte) int {
	return d.wire - (cap(d.base) - cap(data))
}

// Decode decodes one frame of the given link type into p (which it resets,
// keeping Num, Time, CapLen, WireLen and Point). It returns a *DecodeError
// when a header does not parse; what was decoded before stays in p. A frame
// that is not IP, or a transport the analyzer does not read, is not an
// error: p.IP.Family or p.L4 stay 0.
func (d *Decoder) Decode(link layers.LinkType, data []byte, p *Packet) error {
	num, t, capLen, wireLen, point := p.Num, p.Time, p.CapLen, p.WireLen, p.Point
	*p = Packet{Num: num, Time: t, CapLen: capLen, WireLen: wireLen, Point: point}
	if wireLen < len(data) {
		p.WireLen = len(data)
	}
	d.snap = len(data) < p.WireLen
	d.base, d.wire = data, p.WireLen
	if link != d.link || !d.linkSet {
		d.link, d.linkSet = link, true
		d.fr, d.frOK = mss.LinkFraming(int(link))
	}
	if !d.frOK {
		return &DecodeError{Layer: LayerNone, Msg: "unsupported link type " + itoa(int(link))}
	}
	mss.Locate(data, d.fr, &d.lk)
	if d.lk.N > 0 && len(data) >= d.lk.Off {
		switch d.lk.Layers[0] {
		case mss.LinkSLL: // the packet type tells in from out; v1 has no device
			p.Point |= uint64(binary.BigEndian.Uint16(data[0:2]))
		case mss.LinkSLL2: // interface index and packet type
			p.Point |= uint64(binary.BigEndian.Uint32(data[4:8]))<<8 | uint64(data[10])
		}
	}
	data, n, err := d.located(data, p)
	if err != nil || n == nStop {
		return err
	}
	return d.decode(n, data, p)
}

// located turns what mss.Locate found in data (d.lk) into stack layers and
// the next step: the IP header, nothing (not IP), or an error that tells a
// snap-length cut (truncation) from a frame too short for its own headers.
func (d *Decoder) located(data []byte, p *Packet) ([]byte, next, error) {
	l := &d.lk
	for i := 0; i < l.N; i++ {
		if !p.Stack.push(linkLayer[l.Layers[i]]) {
			return nil, nStop, tooDeep(linkLayer[l.Layers[i]])
		}
	}
	switch l.Reason {
	case mss.ReasonNone:
		switch l.Family {
		case encap.IPv4:
			return data[l.Off:], nIPv4, nil
		case encap.IPv6:
			return data[l.Off:], nIPv6, nil
		}
		return data[l.Off:], nIPGuess, nil
	case mss.ReasonShort:
		return nil, nStop, d.short(p, linkLayer[l.At], len(data)-l.Off)
	case mss.ReasonBadHeader:
		return nil, nStop, &DecodeError{Layer: linkLayer[l.At], Msg: l.Msg}
	}
	return nil, nStop, nil // not IP
}

// ether walks the payload of a header whose protocol field is the
// EtherType et (GRE, Geneve) with the link locator.
func (d *Decoder) ether(data []byte, et uint16, p *Packet) ([]byte, next, error) {
	mss.LocateEther(data, et, &d.lk)
	return d.located(data, p)
}

// framed walks data framed as fr (Ethernet or MPLS inside a tunnel) with
// the link locator.
func (d *Decoder) framed(data []byte, fr mss.Framing, p *Packet) ([]byte, next, error) {
	mss.Locate(data, fr, &d.lk)
	return d.located(data, p)
}

// decode walks the layers from n, one step per header.
func (d *Decoder) decode(n next, data []byte, p *Packet) error {
	var err error
	for n != nStop && err == nil {
		switch n {
		case nEthernet:
			data, n, err = d.framed(data, mss.FrameEthernet, p)
		case nIPv4:
			data, n, err = d.ipv4(data, p)
		case nIPv6:
			data, n, err = d.ipv6(data, p)
		case nIPGuess:
			data, n, err = d.ipGuess(data, p)
		case nMPLS:
			data, n, err = d.framed(data, mss.FrameMPLS, p)
		case nGRE:
			data, n, err = d.greHdr(data, p)
		case nERSPAN2:
			data, n, err = d.erspan2(data, p)
		case nERSPAN3:
			data, n, err = d.erspan3(data, p)
		case nVXLAN:
			data, n, err = d.vxlanHdr(data, p)
		case nGeneve:
			data, n, err = d.geneveHdr(data, p)
		case nGTPU:
			data, n, err = d.gtpu(data, p)
		case nEtherIP:
			data, n, err = d.etherIP(data, p)
		case nAYIYA:
			data, n, err = d.ayiya(data, p)
		case nWLAN:
			data, n, err = d.wlan(data, p)
		default:
			n = nStop
		}
	}
	return err
}

// ipGuess tells IPv4 from IPv6 by the version nibble.
func (d *Decoder) ipGuess(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) == 0 {
		return nil, nStop, d.short(p, LayerIPv4, 0)
	}
	switch data[0] >> 4 {
	case 4:
		return data, nIPv4, nil
	case 6:
		return data, nIPv6, nil
	}
	return nil, nStop, &DecodeError{Layer: LayerIPv4, Msg: "IP version " + itoa(int(data[0]>>4)) + " in a raw IP frame"}
}

// greHdr decodes a GRE header.
func (d *Decoder) greHdr(data []byte, p *Packet) ([]byte, next, error) {
	if !p.Stack.push(LayerGRE) {
		return nil, nStop, tooDeep(LayerGRE)
	}
	if err := d.gre.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nStop, d.layerErr(p, LayerGRE, len(data), 4, err)
	}
	proto := uint16(d.gre.Protocol)
	if proto == etherERSPAN2 && !d.gre.SeqPresent {
		// ERSPAN type I: no ERSPAN header, the mirrored frame follows
		if !p.Stack.push(LayerERSPAN) {
			return nil, nStop, tooDeep(LayerERSPAN)
		}
		return d.gre.Payload, nEthernet, nil
	}
	switch {
	case proto == etherERSPAN2:
		return d.gre.Payload, nERSPAN2, nil
	case proto == etherERSPAN3:
		return d.gre.Payload, nERSPAN3, nil
	case proto >= greAruba && proto <= greArubaLast && proto&0xf == 0:
		return d.gre.Payload, nWLAN, nil
	}
	return d.ether(d.gre.Payload, proto, p)
}

// erspan2 decodes an ERSPAN type II header.
func (d *Decoder) erspan2(data []byte, p *Packet) ([]byte, next, error) {
	if !p.Stack.push(LayerERSPAN) {
		return nil, nStop, tooDeep(LayerERSPAN)
	}
	if err := d.erspan.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nStop, d.layerErr(p, LayerERSPAN, len(data), 8, err)
	}
	return d.erspan.Payload, nEthernet, nil
}

// erspan3 decodes an ERSPAN type III header: 12 bytes, 8 more with the O
// flag.
func (d *Decoder) erspan3(data []byte, p *Packet) ([]byte, next, error) {
	if !p.Stack.push(LayerERSPAN) {
		return nil, nStop, tooDeep(LayerERSPAN)
	}
	if len(data) < 12 {
		return nil, nStop, d.short(p, LayerERSPAN, len(data))
	}
	h := 12
	if data[11]&1 == 1 {
		h += 8
	}
	if len(data) < h {
		return nil, nStop, d.short(p, LayerERSPAN, len(data))
	}
	if ft := data[10] >> 2 & 0x1f; ft != 0 {
		// frame type 2 (IP) and the others are left undecoded, as
		// Wireshark 4.0 and tcpdump leave them
		return nil, nStop, nil
	}
	return data[h:], nEthernet, nil
}

// vxlanHdr decodes a VXLAN header.
func (d *Decoder) vxlanHdr(data []byte, p *Packet) ([]byte, next, error) {
	if err := d.vxlan.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nStop, d.layerErr(p, LayerVXLAN, len(data), 8, err)
	}
	if !p.Stack.push(LayerVXLAN) {
		return nil, nStop, tooDeep(LayerVXLAN)
	}
	return d.vxlan.Payload, nEthernet, nil
}

// geneveHdr decodes a Geneve header.
func (d *Decoder) geneveHdr(data []byte, p *Packet) ([]byte, next, error) {
	if err := d.geneve.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nStop, d.layerErr(p, LayerGeneve, len(data), 8, err)
	}
	if !p.Stack.push(LayerGeneve) {
		return nil, nStop, tooDeep(LayerGeneve)
	}
	return d.ether(d.geneve.Payload, uint16(d.geneve.Protocol), p)
}

// gtpu decodes a GTP-U header; only G-PDUs carry user packets.
func (d *Decoder) gtpu(data []byte, p *Packet) ([]byte, next, error) {
	if err := d.gtp.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, nStop, d.layerErr(p, LayerGTPU, len(data), 8, err)
	}
	if !p.Stack.push(LayerGTPU) {
		return nil, nStop, tooDeep(LayerGTPU)
	}
	data = d.gtp.Payload
	if d.gtp.MessageType != 255 || len(data) == 0 {
		return nil, nStop, nil
	}
	return data, nIPGuess, nil
}

// etherIP decodes an EtherIP header (RFC 3378).
func (d *Decoder) etherIP(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 2 {
		return nil, nStop, d.short(p, LayerEtherIP, len(data))
	}
	if !p.Stack.push(LayerEtherIP) {
		return nil, nStop, tooDeep(LayerEtherIP)
	}
	return data[2:], nEthernet, nil
}

// ayiya decodes an AYIYA header (Anything In Anything, UDP 5072): 8
// bytes, then an identity of 2^IdLen bytes and a signature of 4·SigLen;
// only a forward (opcode 1) carries a packet, of the IP protocol in byte 3.
func (d *Decoder) ayiya(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 8 {
		return nil, nStop, d.short(p, LayerAYIYA, len(data))
	}
	h := 8 + 1<<(data[0]>>4) + 4*int(data[1]>>4)
	if len(data) < h {
		return nil, nStop, d.short(p, LayerAYIYA, len(data))
	}
	if data[2]&0x0f != 1 {
		return nil, nStop, &DecodeError{Layer: LayerAYIYA, Msg: "not a forward (opcode " + itoa(int(data[2]&0x0f)) + ")"}
	}
	var n next
	switch data[3] {
	case 4:
		n = nIPv4
	case 41:
		n = nIPv6
	default:
		return nil, nStop, &DecodeError{Layer: LayerAYIYA, Msg: "next header " + itoa(int(data[3]))}
	}
	if !p.Stack.push(LayerAYIYA) {
		return nil, nStop, tooDeep(LayerAYIYA)
	}
	return data[h:], n, nil
}

// wlan decodes an 802.11 data frame without FCS, as Aruba's GRE carries
// it (Wireshark hands GRE types 0x8200-0x8370 to its 802.11 dissector):
// a 24-byte header, 6 more for a fourth address (to and from DS), 2 for
// QoS data and 4 for its HT control (order bit), then LLC/SNAP. Protected
// (encrypted), fragmented, null and non-data frames carry no packet to read.
func (d *Decoder) wlan(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 24 {
		return nil, nStop, d.short(p, LayerWLAN, len(data))
	}
	if !p.Stack.push(LayerWLAN) {
		return nil, nStop, tooDeep(LayerWLAN)
	}
	fc, flags := data[0], data[1]
	typ, sub := fc>>2&3, fc>>4
	if fc&3 != 0 || typ != 2 || sub&4 != 0 || flags&0x44 != 0 || binary.LittleEndian.Uint16(data[22:24])&0x0f != 0 {
		return nil, nStop, nil
	}
	h := 24
	if flags&3 == 3 {
		h += 6
	}
	if sub&8 != 0 {
		h += 2
		if flags&0x80 != 0 {
			h += 4
		}
	}
	if len(data) < h+8 {
		return nil, nStop, d.short(p, LayerWLAN, len(data))
	}
	llc := data[h:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 3 || llc[3] != 0 || llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8) {
		return nil, nStop, nil
	}
	return d.ether(data[h+8:], binary.BigEndian.Uint16(llc[6:8]), p)
}

// ipv4 decodes an IPv4 header and says what follows it.
func (d *Decoder) ipv4(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 20 {
		return nil, nStop, d.short(p, LayerIPv4, len(data))
	}
	if !p.Stack.push(LayerIPv4) {
		return nil, nStop, tooDeep(LayerIPv4)
	}
	if v := data[0] >> 4; v != 4 {
		return nil, nStop, &DecodeError{Layer: LayerIPv4, Msg: "version " + itoa(int(v)) + " in an IPv4 header"}
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 {
		return nil, nStop, &DecodeError{Layer: LayerIPv4, Msg: "header length " + itoa(ihl) + " (< 20)"}
	}
	if len(data) < ihl {
		return nil, nStop, d.short(p, LayerIPv4, len(data))
	}
	ip := &p.IP
	d.newIP(p)
	ip.Family = 4
	ip.HdrLen = ihl
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		// TSO and BIG TCP write 0; the packet is what was captured.
		ip.LenZero = true
		total = d.wireLeft(data)
	} else if total < ihl {
		return nil, nStop, &DecodeError{Layer: LayerIPv4, Msg: "total length " + itoa(total) + " shorter than its header (" + itoa(ihl) + ")"}
	} else if total > len(data) && !d.snap {
		return nil, nStop, &DecodeError{Layer: LayerIPv4, Msg: "total length " + itoa(total) + " beyond the end of the frame (" + itoa(len(data)) + " bytes)"}
	}
	ip.TotalLen = total
	ip.ID = uint32(binary.BigEndian.Uint16(data[4:6]))
	ff := binary.BigEndian.Uint16(data[6:8])
	ip.Evil = ff&0x8000 != 0
	ip.DF = ff&0x4000 != 0
	ip.MF = ff&0x2000 != 0
	ip.FragOff = int(ff&0x1fff) * 8
	ip.TTL = data[8]
	ip.Proto = data[9]
	copy(ip.Src[:4], data[12:16])
	copy(ip.Dst[:4], data[16:20])
	if p.OuterFamily == 0 {
		p.OuterFamily, p.OuterLen = 4, total
	}
	if total < len(data) {
		data = data[:total] // Ethernet padding
	}
	data = data[ihl:]
	if ip.MF || ip.FragOff != 0 {
		ip.Frag = true
		p.Stack.push(LayerFragment)
		p.FragPayload = data
		return nil, nStop, nil
	}
	return d.upper(ip.Proto, data, total-ihl, p)
}

// newIP starts a new (possibly inner) IP header.
func (d *Decoder) newIP(p *Packet) {
	if p.IP.Family != 0 {
		p.Tunnels++
	}
	p.IP = IPHeader{}
}

// ipv6 decodes an IPv6 header and its extension headers.
func (d *Decoder) ipv6(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 40 {
		return nil, nStop, d.short(p, LayerIPv6, len(data))
	}
	if !p.Stack.push(LayerIPv6) {
		return nil, nStop, tooDeep(LayerIPv6)
	}
	if v := data[0] >> 4; v != 6 {
		return nil, nStop, &DecodeError{Layer: LayerIPv6, Msg: "version " + itoa(int(v)) + " in an IPv6 header"}
	}
	ip := &p.IP
	d.newIP(p)
	ip.Family = 6
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	ip.TTL = data[7]
	copy(ip.Src[:], data[8:24])
	copy(ip.Dst[:], data[24:40])
	total := 40 + plen
	if plen == 0 {
		ip.LenZero = true
		total = d.wireLeft(data) // refined below when a jumbo option says more
	} else if total > len(data) && !d.snap {
		return nil, nStop, &DecodeError{Layer: LayerIPv6, Msg: "payload length " + itoa(plen) + " beyond the end of the frame (" + itoa(len(data)-40) + " bytes)"}
	}
	if total < len(data) {
		data = data[:total]
	}
	// walk the extension headers
	nh := data[6]
	off := 40
	for {
		switch nh {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(data) < off+2 {
				return nil, nStop, d.short(p, LayerIPv6, len(data))
			}
			l := (int(data[off+1]) + 1) * 8
			if len(data) < off+l {
				return nil, nStop, d.short(p, LayerIPv6, len(data))
			}
			if nh == 0 && off == 40 {
				if j, ok := jumboLen(data[off+2 : off+l]); ok {
					ip.Jumbo = true
					if plen == 0 {
						// RFC 2675 §3: only above 65535; and never past the frame
						if j < 65536 {
							return nil, nStop, &DecodeError{Layer: LayerIPv6, Msg: "jumbo payload length " + itoa(int(j)) + " (below 65536)"}
						}
						if w := d.wireLeft(data); 40+int(j) > w {
							return nil, nStop, &DecodeError{Layer: LayerIPv6, Msg: "jumbo payload length " + itoa(int(j)) + " beyond the end of the frame (" + itoa(w-40) + " bytes)"}
						}
						total = 40 + int(j)
					}
				}
			}
			nh = data[off]
			off += l
			continue
		case 44: // fragment
			if len(data) < off+8 {
				return nil, nStop, d.short(p, LayerIPv6, len(data))
			}
			fo := binary.BigEndian.Uint16(data[off+2 : off+4])
			ip.FragOff = int(fo &^ 7)
			ip.MF = fo&1 == 1
			ip.ID = binary.BigEndian.Uint32(data[off+4 : off+8])
			ip.FragHdr = off
			nh = data[off]
			off += 8
			if ip.FragOff == 0 && !ip.MF {
				ip.Atomic = true
				continue
			}
			ip.Frag = true
		case 51: // AH: its length is in 4-byte units, less 2
			if len(data) < off+2 {
				return nil, nStop, d.short(p, LayerAH, len(data))
			}
			l := (int(data[off+1]) + 2) * 4
			if len(data) < off+l {
				return nil, nStop, d.short(p, LayerAH, len(data))
			}
			p.Stack.push(LayerAH)
			nh = data[off]
			off += l
			continue
		}
		break
	}
	ip.HdrLen = off
	ip.Proto = nh
	ip.TotalLen = total
	if p.OuterFamily == 0 {
		p.OuterFamily, p.OuterLen = 6, total
	}
	if total < off {
		return nil, nStop, &DecodeError{Layer: LayerIPv6, Msg: "payload length " + itoa(plen) + " shorter than the extension headers"}
	}
	if ip.Frag {
		p.Stack.push(LayerFragment)
		p.FragPayload = data[off:]
		return nil, nStop, nil
	}
	return d.upper(nh, data[off:], total-off, p)
}

// jumboLen finds the jumbo payload option (RFC 2675) in hop-by-hop options.
func jumboLen(opts []byte) (uint32, bool) {
	for i := 0; i < len(opts); {
		t := opts[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+1 >= len(opts) {
			return 0, false
		}
		l := int(opts[i+1])
		if t == 0xc2 && l == 4 && i+6 <= len(opts) {
			return binary.BigEndian.Uint32(opts[i+2 : i+6]), true
		}
		i += 2 + l
	}
	return 0, false
}

// upper decodes what an IP header carries; plen is the payload length the
// IP header says (data may be shorter when the snap length cut it).
func (d *Decoder) upper(proto uint8, data []byte, plen int, p *Packet) ([]byte, next, error) {
	switch proto {
	case 6:
		return nil, nStop, d.tcp(data, plen, p)
	case 17:
		return d.udp(data, p)
	case 1:
		return nil, nStop, d.icmp(data, 4, p)
	case 58:
		return nil, nStop, d.icmp(data, 6, p)
	case 4:
		return data, nIPv4, nil
	case 41:
		return data, nIPv6, nil
	case 47:
		return data, nGRE, nil
	case 97:
		return data, nEtherIP, nil
	case 137:
		return data, nMPLS, nil
	case 50:
		p.Stack.push(LayerESP)
	case 51: // AH in IPv4
		if len(data) < 2 {
			return nil, nStop, d.short(p, LayerAH, len(data))
		}
		l := (int(data[1]) + 2) * 4
		if len(data) < l {
			return nil, nStop, d.short(p, LayerAH, len(data))
		}
		p.Stack.push(LayerAH)
		return d.upper(data[0], data[l:], plen-l, p)
	}
	return nil, nStop, nil
}

// tcp decodes a TCP header.
func (d *Decoder) tcp(data []byte, plen int, p *Packet) error {
	if len(data) < 20 {
		return d.short(p, LayerTCP, len(data))
	}
	p.Stack.push(LayerTCP)
	t := &p.TCP
	t.SrcPort = binary.BigEndian.Uint16(data[0:2])
	t.DstPort = binary.BigEndian.Uint16(data[2:4])
	t.Seq = binary.BigEndian.Uint32(data[4:8])
	t.Ack = binary.BigEndian.Uint32(data[8:12])
	hl := int(data[12]>>4) * 4
	t.Flags = data[13]
	t.Window = binary.BigEndian.Uint16(data[14:16])
	if hl < 20 {
		return &DecodeError{Layer: LayerTCP, Msg: "data offset " + itoa(hl/4) + " (< 5)"}
	}
	if hl > plen {
		return &DecodeError{Layer: LayerTCP, Msg: "header length " + itoa(hl) + " beyond the IP payload (" + itoa(plen) + " bytes)"}
	}
	t.HdrLen = hl
	t.PayloadLen = plen - hl
	if hl > len(data) {
		t.Header = data
		t.OptsCut = true
		p.Truncated = true
	} else {
		t.Header = data[:hl]
	}
	t.Options = t.Header[20:]
	p.L4 = 6
	return nil
}

// udp decodes a UDP header and follows the tunnels UDP carries.
func (d *Decoder) udp(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 8 {
		return nil, nStop, d.short(p, LayerUDPEnd, len(data))
	}
	u := &p.UDP
	u.SrcPort = binary.BigEndian.Uint16(data[0:2])
	u.DstPort = binary.BigEndian.Uint16(data[2:4])
	u.Length = int(binary.BigEndian.Uint16(data[4:6]))
	body := data[8:]
	if u.Length >= 8 && u.Length-8 < len(body) {
		body = body[:u.Length-8]
	}
	var n next
	switch {
	case u.DstPort == 4789 || u.DstPort == 8472:
		n = nVXLAN
	case u.DstPort == 6081:
		n = nGeneve
	case u.DstPort == 2152 || u.SrcPort == 2152:
		n = nGTPU
	case u.DstPort == 6635:
		n = nMPLS
	case u.DstPort == 4754: // GRE in UDP (RFC 8086)
		n = nGRE
	case u.DstPort == 5072 || u.SrcPort == 5072:
		n = nAYIYA
	case (u.DstPort == 4500 || u.SrcPort == 4500) && len(body) >= 4 && binary.BigEndian.Uint32(body) != 0:
		p.Stack.push(LayerUDP)
		p.Stack.push(LayerESP) // NAT-T ESP (a zero SPI marks IKE)
		return nil, nStop, nil
	}
	if n != nStop && len(body) > 0 {
		// A tunnel is only a guess from the port: if what follows does not
		// decode, the packet is plain UDP after all.
		saved := *p
		p.Stack.push(LayerUDP)
		err := d.decode(n, body, p)
		if err == nil {
			return nil, nStop, nil
		}
		*p = saved
	}
	p.Stack.push(LayerUDPEnd)
	p.L4 = 17
	return nil, nStop, nil
}

// icmp decodes an ICMP or ICMPv6 message and the packet it quotes.
func (d *Decoder) icmp(data []byte, family uint8, p *Packet) error {
	l := LayerICMP
	if family == 6 {
		l = LayerICMPv6
	}
	if len(data) < 8 {
		return d.short(p, l, len(data))
	}
	p.Stack.push(l)
	h := &p.ICMP
	h.Type, h.Code = data[0], data[1]
	p.L4 = 1
	if family == 6 {
		p.L4 = 58
	}
	var quotes bool
	if family == 4 {
		switch h.Type {
		case 3:
			quotes = true
			if h.Code == 4 {
				h.MTU = uint32(binary.BigEndian.Uint16(data[6:8]))
			}
		case 4, 5, 11, 12:
			quotes = true
		}
	} else {
		switch h.Type {
		case 1, 3, 4:
			quotes = true
		case 2:
			quotes = true
			h.MTU = binary.BigEndian.Uint32(data[4:8])
		}
	}
	if quotes {
		_ = icmpquote.Parse(data[8:], &h.Quoted) // a quote cut short leaves Quoted.Family 0
	}
	return nil
}

// DecodeReassembled decodes the upper layers of a reassembled IP datagram:
// p holds the IP header of its last fragment, payload is the whole
// reassembled IP payload.
func (d *Decoder) DecodeReassembled(p *Packet, payload []byte) error {
	p.IP.Frag = false
	if p.IP.Family == 6 {
		p.IP.HdrLen = p.IP.FragHdr // the fragment header goes away
	}
	p.IP.TotalLen = p.IP.HdrLen + len(payload)
	if p.Tunnels == 0 {
		p.OuterLen = p.IP.TotalLen
	}
	p.FragPayload = nil
	d.snap = false
	d.base, d.wire = payload, len(payload)
	rest, n, err := d.upper(p.IP.Proto, payload, len(payload), p)
	if err == nil && n != nStop {
		err = d.decode(n, rest, p)
	}
	return err
}

// short reports a header cut off: truncation when the snap length did it,
// malformation when the frame itself is too short.
func (d *Decoder) short(p *Packet, l Layer, have int) error {
	if d.snap {
		p.Truncated = true
		return nil
	}
	return &DecodeError{Layer: l, Msg: "truncated header (" + itoa(have) + " bytes left)"}
}

// layerErr turns a gopacket layer error into a DecodeError (or truncation).
func (d *Decoder) layerErr(p *Packet, l Layer, have, min int, err error) error {
	if d.snap && have < min+64 {
		p.Truncated = true
		return nil
	}
	return &DecodeError{Layer: l, Msg: lowerFirst(err.Error())}
}

func tooDeep(l Layer) error {
	return &DecodeError{Layer: l, Msg: "more than " + itoa(maxLayers) + " nested headers"}
}

func lowerFirst(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}

func itoa(n int) string {
	// small, allocation-free for the common case is not needed: errors only
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
