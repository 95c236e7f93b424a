package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mtukit/mtukit/icmpquote"
)

// Layer is one header in a packet's encapsulation, as the report names it.
type Layer uint8

// The layers the decoder knows, in no particular order. The names are
// stable: they appear in reports.
const (
	LayerNone     Layer = iota
	LayerEthernet       // Ethernet II
	LayerVLAN           // 802.1Q C-tag
	LayerQinQ           // 802.1ad S-tag (also 0x9100)
	LayerMPLS           // one MPLS label
	LayerPPPoE          // PPPoE session header with its PPP protocol field
	LayerPPP            // PPP (link type 9, or inside GRE)
	LayerSLL            // Linux cooked header v1
	LayerSLL2           // Linux cooked header v2
	LayerNull           // BSD loopback/null family header
	LayerIPv4
	LayerIPv6
	LayerGRE
	LayerERSPAN
	LayerUDP // UDP carrying a tunnel (VXLAN, GENEVE, GTP-U, MPLS, ESP)
	LayerVXLAN
	LayerGeneve
	LayerGTPU
	LayerAH
	LayerESP
	LayerFragment // an IPv4 or IPv6 fragment: the upper layer is in the reassembly
	LayerTCP
	LayerUDPEnd // UDP as the innermost transport
	LayerICMP
	LayerICMPv6
	LayerEtherIP
	LayerPBB    // 802.1ah I-TAG with the customer addresses
	LayerMACsec // 802.1AE SecTAG (integrity only: the packet is in the clear)
	LayerNSH    // network service header (RFC 8300)
	LayerLLC    // 802.2 LLC/SNAP
	LayerCHDLC  // Cisco HDLC
	LayerIPoIB  // IP over InfiniBand
	LayerNFLOG  // Linux NFLOG
	LayerARCNET // ARCNET
	LayerAYIYA  // AYIYA (UDP 5072)
	LayerWLAN   // 802.11 data frame (Aruba's GRE)
	numLayers
)

var layerNames = [numLayers]string{
	"", "eth", "vlan", "qinq", "mpls", "pppoe", "ppp", "sll", "sll2", "null",
	"ipv4", "ipv6", "gre", "erspan", "udp", "vxlan", "geneve", "gtpu", "ah", "esp",
	"fragment", "tcp", "udp", "icmp", "icmpv6", "etherip",
	"pbb", "macsec", "nsh", "llc", "chdlc", "ipoib", "nflog", "arcnet", "ayiya", "wlan",
}

func (l Layer) String() string {
	if l < numLayers {
		return layerNames[l]
	}
	return "layer" + strconv.Itoa(int(l))
}

// maxLayers bounds the encapsulation depth the decoder follows; deeper
// packets (a GRE loop, a crafted file) are reported as malformed.
const maxLayers = 16

// Stack is a packet's encapsulation, outermost first, e.g.
// eth/vlan/ipv4/gre/ipv4/tcp. It is comparable, so reports count packets per
// stack without building strings in the hot path.
type Stack struct {
	n uint8
	l [maxLayers]Layer
}

// Len is the number of layers.
func (s *Stack) Len() int { return int(s.n) }

// At is the i-th layer, outermost first.
func (s *Stack) At(i int) Layer { return s.l[i] }

func (s *Stack) push(l Layer) bool {
	if int(s.n) >= maxLayers {
		return false
	}
	s.l[s.n] = l
	s.n++
	return true
}

// Has reports whether the stack contains l.
func (s *Stack) Has(l Layer) bool {
	for i := 0; i < int(s.n); i++ {
		if s.l[i] == l {
			return true
		}
	}
	return false
}

func (s Stack) String() string {
	var b strings.Builder
	for i := 0; i < int(s.n); i++ {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s.l[i].String())
	}
	return b.String()
}

// IPHeader is what the analyzer keeps of an IPv4 or IPv6 header.
type IPHeader struct {
	Family uint8 // 4 or 6; 0 when the packet has no IP layer
	Src    [16]byte
	Dst    [16]byte
	// HdrLen is the IPv4 header with options, or the IPv6 header with the
	// extension headers before the upper layer.
	HdrLen int
	// TotalLen is the IP packet's size: header and payload, as the header
	// says (or, for a length of 0 as TSO and BIG TCP write it, as captured).
	TotalLen int
	LenZero  bool // the length field was 0 (TSO, BIG TCP) and TotalLen comes from the frame
	Jumbo    bool // IPv6 jumbo payload option
	ID       uint32
	DF       bool // IPv4 don't fragment
	MF       bool // more fragments
	Evil     bool // IPv4 reserved flag bit set
	FragOff  int  // fragment offset in bytes
	Frag     bool // the packet is a fragment (IPv4 MF or offset, or an IPv6 fragment header that is not atomic)
	Atomic   bool // IPv6 fragment header with offset 0 and M clear (RFC 6946)
	FragHdr  int  // offset of the IPv6 fragment header in the IP packet (for reassembly), 0 if none
	TTL      uint8
	Proto    uint8 // upper-layer protocol
}

// SrcAddr is the source address.
func (h *IPHeader) SrcAddr() netip.Addr { return addrOf(h.Family, &h.Src) }

// DstAddr is the destination address.
func (h *IPHeader) DstAddr() netip.Addr { return addrOf(h.Family, &h.Dst) }

func addrOf(family uint8, b *[16]byte) netip.Addr {
	switch family {
	case 4:
		return netip.AddrFrom4([4]byte(b[:4]))
	case 6:
		return netip.AddrFrom16(*b)
	}
	return netip.Addr{}
}

// TCPHeader is what the analyzer keeps of a TCP header.
type TCPHeader struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8
	Window           uint16
	HdrLen           int // data offset in bytes
	// PayloadLen is the segment's data length from the IP length, so it is
	// right even when the capture kept only the headers.
	PayloadLen int
	// Header is the TCP header as captured and Options its option bytes
	// (both point into the frame).
	Header  []byte
	Options []byte
	// OptsCut is set when the snap length cut the options short.
	OptsCut bool
}

// UDPHeader is what the analyzer keeps of a UDP header.
type UDPHeader struct {
	SrcPort, DstPort uint16
	Length           int
}

// ICMPHeader is an ICMP or ICMPv6 message with the packet it quotes.
type ICMPHeader struct {
	Type, Code uint8
	// MTU is the next-hop MTU of an IPv4 fragmentation-needed (type 3 code 4,
	// RFC 1191) or the MTU of an ICMPv6 packet too big (type 2, RFC 8201).
	MTU    uint32
	Quoted Quote
}

// IsPTB reports whether the message says a packet was too big for the path.
func (h *ICMPHeader) IsPTB(family uint8) bool {
	if family == 4 {
		return h.Type == 3 && h.Code == 4
	}
	return family == 6 && h.Type == 2
}

// Quote is the start of the packet an ICMP error message carries, as the
// prober reads it too.
type Quote = icmpquote.Quote

// Packet is one decoded frame: what the analyzer needs of it. Slices point
// into the frame and are valid only until the next frame is read.
type Packet struct {
	Num     int64 // 1-based frame number, as tshark's frame.number
	Time    int64 // capture time, Unix nanoseconds
	CapLen  int
	WireLen int
	// Point identifies the capture point: the pcapng interface and, for
	// Linux cooked captures, the device and direction. Two capture points
	// of one flow in a file see the same packets; the analyzer follows each
	// direction at one point and compares the others.
	Point uint64
	Stack Stack
	// Outer is the outermost IP header's family and length, what counts
	// against the link MTU; with no tunnel it equals IP.
	OuterFamily uint8
	OuterLen    int
	Tunnels     int // IP headers beyond the first
	IP          IPHeader
	TCP         TCPHeader
	UDP         UDPHeader
	ICMP        ICMPHeader
	// L4 is the innermost transport's protocol number (6, 17, 1, 58) when its
	// header was decoded, 0 otherwise.
	L4 uint8
	// Truncated is set when the snap length cut a header the decoder needed.
	Truncated bool
	// FragPayload is a fragment's IP payload, for reassembly.
	FragPayload []byte
}

// DecodeError is a header that does not parse.
type DecodeError struct {
	Layer Layer
	Msg   string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("%s: %s", e.Layer, e.Msg) }
