package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/icmpquote"
)

// Link types gopacket does not name (DLT_RAW as OpenBSD and some older
// systems number it).
const (
	linkTypeRawOld     layers.LinkType = 12
	linkTypeRawOpenBSD layers.LinkType = 14
)

// EtherTypes the decoder follows (also GRE and Geneve protocol types).
const (
	etherIPv4       = 0x0800
	etherIPv6       = 0x86dd
	etherVLAN       = 0x8100 // 802.1Q
	etherQinQ       = 0x88a8 // 802.1ad
	etherQinQ9100   = 0x9100 // pre-standard QinQ
	etherQinQ9200   = 0x9200
	etherMPLS       = 0x8847
	etherMPLSMulti  = 0x8848
	etherPPPoE      = 0x8864 // PPPoE session stage
	etherPPP        = 0x880b
	etherTEB        = 0x6558 // transparent Ethernet bridging (GRE, Geneve)
	etherERSPAN2    = 0x88be // ERSPAN type II (type I over GRE without a sequence number)
	etherERSPAN3    = 0x22eb
	pppProtoIPv4    = 0x0021
	pppProtoIPv6    = 0x0057
	pppProtoMPLS    = 0x0281
	pppProtoMPLSMul = 0x0283
)

// next says what the decoder looks at after a header: one step of decode,
// one method each.
type next uint8

const (
	nStop next = iota
	nEthernet
	nVLAN
	nQinQ
	nIPv4
	nIPv6
	nIPGuess // IPv4 or IPv6 by the version nibble (raw IP, MPLS, GTP-U)
	nPPP
	nPPPoE
	nMPLS
	nGRE
	nERSPAN2
	nERSPAN3
	nVXLAN
	nGeneve
	nGTPU
	nEtherIP
)

// etherNext is the EtherType table: what follows an Ethernet, VLAN, SLL,
// GRE or Geneve header of that type. Anything else (ARP, LLDP, PPPoE
// discovery...) is not IP, and decoding stops without an error.
func etherNext(et uint16) next {
	switch et {
	case etherIPv4:
		return nIPv4
	case etherIPv6:
		return nIPv6
	case etherVLAN:
		return nVLAN
	case etherQinQ, etherQinQ9100, etherQinQ9200:
		return nQinQ
	case etherMPLS, etherMPLSMulti:
		return nMPLS
	case etherPPPoE:
		return nPPPoE
	case etherPPP:
		return nPPP
	case etherTEB:
		return nEthernet
	case etherERSPAN2:
		return nERSPAN2
	case etherERSPAN3:
		return nERSPAN3
	}
	return nStop
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
	snap   bool   // the frame was cut by the snap length
	base   []byte // the buffer being decoded, to find a slice's offset in it
	wire   int    // the buffer's size on the wire
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
	data, n, err := d.link(link, data, p)
	if err != nil || n == nStop {
		return err
	}
	return d.decode(n, data, p)
}

// link is the link-type table: the link header, then the first step.
func (d *Decoder) link(link layers.LinkType, data []byte, p *Packet) ([]byte, next, error) {
	switch link {
	case layers.LinkTypeEthernet:
		return data, nEthernet, nil
	case layers.LinkTypeRaw, linkTypeRawOld, linkTypeRawOpenBSD:
		return data, nIPGuess, nil
	case layers.LinkTypeIPv4:
		return data, nIPv4, nil
	case layers.LinkTypeIPv6:
		return data, nIPv6, nil
	case layers.LinkTypeLinuxSLL:
		return d.sll(data, p)
	case layers.LinkTypeLinuxSLL2:
		return d.sll2(data, p)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.null(data, p)
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return data, nPPP, nil
	}
	return nil, nStop, &DecodeError{Layer: LayerNone, Msg: "unsupported link type " + itoa(int(link))}
}

// decode walks the layers from n, one step per header.
func (d *Decoder) decode(n next, data []byte, p *Packet) error {
	var err error
	for n != nStop && err == nil {
		switch n {
		case nEthernet:
			data, n, err = d.ethernet(data, p)
		case nVLAN:
			data, n, err = d.vlan(data, p, LayerVLAN)
		case nQinQ:
			data, n, err = d.vlan(data, p, LayerQinQ)
		case nIPv4:
			data, n, err = d.ipv4(data, p)
		case nIPv6:
			data, n, err = d.ipv6(data, p)
		case nIPGuess:
			data, n, err = d.ipGuess(data, p)
		case nPPP:
			data, n, err = d.ppp(data, p)
		case nPPPoE:
			data, n, err = d.pppoe(data, p)
		case nMPLS:
			data, n, err = d.mpls(data, p)
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
		default:
			n = nStop
		}
	}
	return err
}

// sll decodes a Linux cooked v1 header. The device is unknown in v1; the
// packet type tells in from out.
func (d *Decoder) sll(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 16 {
		return nil, nStop, d.short(p, LayerSLL, len(data))
	}
	p.Stack.push(LayerSLL)
	p.Point |= uint64(binary.BigEndian.Uint16(data[0:2]))
	return data[16:], etherNext(binary.BigEndian.Uint16(data[14:16])), nil
}

// sll2 decodes a Linux cooked v2 header: interface index and packet type.
func (d *Decoder) sll2(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 20 {
		return nil, nStop, d.short(p, LayerSLL2, len(data))
	}
	p.Stack.push(LayerSLL2)
	p.Point |= uint64(binary.BigEndian.Uint32(data[4:8]))<<8 | uint64(data[10])
	return data[20:], etherNext(binary.BigEndian.Uint16(data[0:2])), nil
}

// null decodes a BSD loopback header (DLT_NULL, DLT_LOOP).
func (d *Decoder) null(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 4 {
		return nil, nStop, d.short(p, LayerNull, len(data))
	}
	p.Stack.push(LayerNull)
	// host byte order for DLT_NULL, network order for DLT_LOOP: the
	// family is small, so whichever reading is small is right.
	fam := binary.LittleEndian.Uint32(data)
	if fam > 0xffff {
		fam = binary.BigEndian.Uint32(data)
	}
	switch fam {
	case 2:
		return data[4:], nIPv4, nil
	case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
		return data[4:], nIPv6, nil
	}
	return nil, nStop, nil
}

// ethernet decodes an Ethernet II header.
func (d *Decoder) ethernet(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 14 {
		return nil, nStop, d.short(p, LayerEthernet, len(data))
	}
	if !p.Stack.push(LayerEthernet) {
		return nil, nStop, tooDeep(LayerEthernet)
	}
	return data[14:], etherNext(binary.BigEndian.Uint16(data[12:14])), nil
}

// vlan decodes an 802.1Q or 802.1ad tag (l says which).
func (d *Decoder) vlan(data []byte, p *Packet, l Layer) ([]byte, next, error) {
	if len(data) < 4 {
		return nil, nStop, d.short(p, l, len(data))
	}
	if !p.Stack.push(l) {
		return nil, nStop, tooDeep(l)
	}
	return data[4:], etherNext(binary.BigEndian.Uint16(data[2:4])), nil
}

// pppoe decodes a PPPoE session header and its 2-byte PPP protocol. The
// PPPoE length field is not trusted (captures have it wrong where the IP
// length is right): the IP total length trims Ethernet padding instead.
func (d *Decoder) pppoe(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) < 8 {
		return nil, nStop, d.short(p, LayerPPPoE, len(data))
	}
	if !p.Stack.push(LayerPPPoE) {
		return nil, nStop, tooDeep(LayerPPPoE)
	}
	data, n := pppProto(data[6:], 2)
	return data, n, nil
}

// ppp decodes a PPP header, with or without the ff 03 address and control
// bytes, with a 1- or 2-byte protocol field.
func (d *Decoder) ppp(data []byte, p *Packet) ([]byte, next, error) {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 || (data[0]&1 == 0 && len(data) < 2) {
		return nil, nStop, d.short(p, LayerPPP, len(data))
	}
	if !p.Stack.push(LayerPPP) {
		return nil, nStop, tooDeep(LayerPPP)
	}
	w := 2
	if data[0]&1 == 1 { // protocol field compressed to one byte
		w = 1
	}
	data, n := pppProto(data, w)
	return data, n, nil
}

// pppProto reads a PPP protocol field of w bytes and says what follows.
func pppProto(data []byte, w int) ([]byte, next) {
	if len(data) < w {
		return data, nStop
	}
	var proto uint16
	if w == 1 {
		proto = uint16(data[0])
	} else {
		proto = binary.BigEndian.Uint16(data)
	}
	data = data[w:]
	switch proto {
	case pppProtoIPv4:
		return data, nIPv4
	case pppProtoIPv6:
		return data, nIPv6
	case pppProtoMPLS, pppProtoMPLSMul:
		return data, nMPLS
	}
	return data, nStop
}

// mpls decodes an MPLS label stack and guesses what it carries.
func (d *Decoder) mpls(data []byte, p *Packet) ([]byte, next, error) {
	for {
		if len(data) < 4 {
			return nil, nStop, d.short(p, LayerMPLS, len(data))
		}
		if !p.Stack.push(LayerMPLS) {
			return nil, nStop, tooDeep(LayerMPLS)
		}
		bottom := data[2]&1 == 1
		data = data[4:]
		if bottom {
			break
		}
	}
	if len(data) == 0 {
		return nil, nStop, nil
	}
	switch data[0] >> 4 {
	case 4:
		return data, nIPv4, nil
	case 6:
		return data, nIPv6, nil
	case 0: // pseudowire control word, then Ethernet
		if len(data) < 4 {
			return nil, nStop, d.short(p, LayerMPLS, len(data))
		}
		return data[4:], nEthernet, nil
	}
	return nil, nStop, nil
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
	return d.gre.Payload, etherNext(proto), nil
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
	return d.geneve.Payload, etherNext(uint16(d.geneve.Protocol)), nil
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
