// Package icmpquote parses the packet an ICMP or ICMPv6 error message quotes
// (RFC 792, RFC 1812 §4.3.2.3, RFC 4443 §3): its IP header and the start of
// its transport header, as far as the router quoted. The prober matches
// packet-too-big and time-exceeded messages to its probes with it; the
// capture analyzer ties the PTBs it sees to flows with it.
//
// The package is pure (no net, no syscall) and Parse allocates nothing.
package icmpquote

import (
	"encoding/binary"
	"errors"
)

// Errors of Parse: the quote holds no usable IP header.
var (
	ErrShort     = errors.New("quoted packet shorter than its ip header")
	ErrVersion   = errors.New("quoted packet is neither ipv4 nor ipv6")
	ErrHeaderLen = errors.New("quoted ipv4 header length below 20 bytes")
)

// IP protocol numbers with ports.
const (
	protoTCP = 6
	protoUDP = 17
)

// Quote is the start of a quoted packet.
type Quote struct {
	Family   uint8    // 4 or 6; 0 when nothing usable is quoted
	Src, Dst [16]byte // IPv4 addresses in the first 4 bytes
	// HdrLen is the fixed IP header's length: the IPv4 IHL, 40 for IPv6
	// (without extension headers).
	HdrLen int
	// TotalLen is the quoted packet's size as its header states it (IPv4
	// total length; IPv6 payload length + 40).
	TotalLen int
	DF       bool // IPv4 don't fragment
	// NextHeader is the IP header's own protocol field (IPv6: before any
	// extension header).
	NextHeader uint8
	// Proto is the transport protocol after the IPv6 extension headers
	// (0 when they run past the quote); for a fragment other than the
	// first, the fragment's protocol, and no transport fields follow.
	Proto            uint8
	SrcPort, DstPort uint16 // TCP and UDP, when 4 bytes of the transport header are quoted
	HasPorts         bool
	Seq              uint32 // TCP sequence number, when 8 bytes are quoted
	HasSeq           bool
}

// Parse reads as much of the quoted packet b as is there into q (which it
// resets). It returns an error, with q.Family 0, when b holds no complete
// fixed IP header; extension headers or a transport header cut short are
// not errors, their fields stay unset.
func Parse(b []byte, q *Quote) error {
	*q = Quote{}
	if len(b) < 1 {
		return ErrShort
	}
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return ErrShort
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 {
			return ErrHeaderLen
		}
		if len(b) < ihl {
			return ErrShort
		}
		q.Family, q.HdrLen = 4, ihl
		q.TotalLen = int(binary.BigEndian.Uint16(b[2:4]))
		ff := binary.BigEndian.Uint16(b[6:8])
		q.DF = ff&0x4000 != 0
		q.NextHeader, q.Proto = b[9], b[9]
		copy(q.Src[:4], b[12:16])
		copy(q.Dst[:4], b[16:20])
		if ff&0x1fff != 0 { // not the first fragment: no transport header
			return nil
		}
		l4 = b[ihl:]
	case 6:
		if len(b) < 40 {
			return ErrShort
		}
		q.Family, q.HdrLen = 6, 40
		q.TotalLen = 40 + int(binary.BigEndian.Uint16(b[4:6]))
		q.NextHeader = b[6]
		copy(q.Src[:], b[8:24])
		copy(q.Dst[:], b[24:40])
		var ok bool
		if l4, ok = q.extHeaders(b); !ok {
			return nil
		}
	default:
		return ErrVersion
	}
	if (q.Proto == protoTCP || q.Proto == protoUDP) && len(l4) >= 4 {
		q.SrcPort = binary.BigEndian.Uint16(l4[0:2])
		q.DstPort = binary.BigEndian.Uint16(l4[2:4])
		q.HasPorts = true
		if q.Proto == protoTCP && len(l4) >= 8 {
			q.Seq = binary.BigEndian.Uint32(l4[4:8])
			q.HasSeq = true
		}
	}
	return nil
}

// extHeaders walks the IPv6 hop-by-hop, routing, destination options and
// fragment headers to the transport header, setting q.Proto. It returns
// false when the walk ends early (a header cut off, a later fragment).
func (q *Quote) extHeaders(b []byte) ([]byte, bool) {
	nh, off := b[6], 40
	for {
		switch nh {
		case 0, 43, 60:
			if len(b) < off+2 {
				return nil, false
			}
			nh = b[off]
			off += (int(b[off+1]) + 1) * 8
		case 44:
			if len(b) < off+8 {
				return nil, false
			}
			if binary.BigEndian.Uint16(b[off+2:off+4])&^7 != 0 {
				q.Proto = b[off]
				return nil, false
			}
			nh = b[off]
			off += 8
		default:
			q.Proto = nh
			return b[off:], true
		}
		if off > len(b) {
			return nil, false
		}
	}
}
