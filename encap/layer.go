package encap

import (
	"slices"
	"strings"
)

// Part is one header or trailer of a layer, with its size in bytes.
type Part struct {
	Layer string `json:"layer"` // the layer's canonical spec, e.g. "gre(key)"
	Name  string `json:"name"`  // e.g. "outer IPv4", "GRE key", "ESP padding"
	Bytes int    `json:"bytes"`
}

// Kind classifies layers for the advice built on top of them.
type Kind uint8

const (
	KindLink    Kind = iota // framing on the link itself: VLAN tags, PPPoE, MPLS, MACsec
	KindIP                  // a bare IP header (IP-in-IP and friends)
	KindTunnel              // a tunnel with its own outer IP header
	KindOverlay             // a tunnel that carries Ethernet frames (VXLAN, GENEVE, gretap...)
	KindIPsec               // ESP or AH
	KindVPN                 // WireGuard, OpenVPN: encrypted UDP/TCP tunnels
)

var kindNames = [...]string{"link", "ip", "tunnel", "overlay", "ipsec", "vpn"}

func (k Kind) String() string { return kindNames[k] }

// Traits are the properties of a layer that advice and checks depend on, so
// that they test a property rather than match layer names. A catalog entry
// declares the traits of its protocol (layerDef.traits); parseLayer adds the
// ones that follow from the built layer (OwnOuterIP, Interface).
type Traits uint16

const (
	// OwnOuterIP: the layer adds an outer IP header of its own (every
	// tunnel, IPsec in tunnel mode), so an explicit ipv4/ipv6 layer under
	// it counts the outer header twice. Derived: a head part that is an
	// outer IP header, in a layer that is not itself a bare IP header.
	OwnOuterIP Traits = 1 << iota
	// Interface: routers configure the layer as an interface of its own
	// (a tunnel or an IP layer), as opposed to framing on the link itself.
	// Derived: every kind but KindLink.
	Interface
	// Protects: the layer encrypts or authenticates the inner packet from
	// one tunnel end to the other (ESP, AH, WireGuard, OpenVPN), so a device
	// outside it cannot read or rewrite the inner TCP SYNs. MACsec is
	// removed at every hop and does not have it.
	Protects
	// GRETunnel: a GRE tunnel interface as routers configure one (RFC 2784:
	// gre, ip6gre, gretap, ip6gretap). NVGRE and EoIP use GRE framing but
	// are not configured as GRE tunnels.
	GRETunnel
	// PPPSession: a PPP session over the link (PPPoE), which routers
	// configure as a dialer interface (Cisco Dialer, Junos pp0).
	PPPSession
	// CarriesEthernet: the tunnel carries Ethernet frames, and its head
	// already counts the inner Ethernet header (gretap, NVGRE, EoIP, VXLAN,
	// GENEVE, vxlan-gpe(eth), l2tpv3(eth), openvpn(tap)); Ethernet framing
	// inside any other tunnel is a stack no device builds. Derived: an
	// "inner Ethernet" head part in a layer that is not link framing.
	CarriesEthernet
	// EthernetFraming: the layer is an Ethernet header on its own (eth),
	// which only a tunnel that carries Ethernet frames can hold; outside
	// any tunnel it is the link's own header, which never counts. Derived:
	// an "inner Ethernet" head part in link framing.
	EthernetFraming
)

var traitNames = [...]string{"own-outer-ip", "interface", "protects", "gre-tunnel", "ppp-session", "carries-ethernet", "ethernet-framing"}

// String lists the traits, e.g. "own-outer-ip,interface,gre-tunnel".
func (t Traits) String() string {
	var names []string
	for i, n := range traitNames {
		if t&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// Has reports whether the layer has every trait in t.
func (l *Layer) Has(t Traits) bool { return l.Traits&t == t }

// derivedTraits are the traits that follow from the built layer itself.
func (l *Layer) derivedTraits() Traits {
	var t Traits
	if l.Kind != KindLink {
		t |= Interface
	}
	if l.Kind != KindIP && slices.ContainsFunc(l.Head, isIPHeader) {
		t |= OwnOuterIP
	}
	if slices.ContainsFunc(l.Head, func(p Part) bool { return p.Name == innerEthernet }) {
		if l.Kind == KindLink {
			t |= EthernetFraming
		} else {
			t |= CarriesEthernet
		}
	}
	return t
}

// Layer is one encapsulation with its arguments resolved into bytes.
//
// On the wire a layer looks like Head, then the inner packet, then padding,
// then Tail. Layers that pad (ESP, OpenVPN CBC) align a region made of the
// inner packet (less Keep bytes of its own header, in transport mode) plus
// Region bytes of their own to a multiple of Block, with at least MinPad
// bytes of padding. Layers with PadCap (WireGuard) pad the inner packet to
// a multiple of Block, but never beyond their own interface MTU.
type Layer struct {
	Name   string // catalog name, e.g. "esp"
	Spec   string // canonical spec with arguments, e.g. "esp(aes-cbc,sha1)"
	Kind   Kind
	Traits Traits
	Outer  Family // family of the outer IP header this layer adds (tunnels only)
	Head   []Part
	Tail   []Part
	Block  int // padding alignment; 1 means no padding
	Region int // bytes of Head/Tail inside the padded region
	MinPad int // PKCS#7 always pads at least one byte
	// Keep is set for transport mode (ESP, AH): the protected packet's IP
	// header, which stays in front of the layer's header and outside
	// ESP's padded region.
	Keep   int
	PadCap bool
	UDP    bool // carried in UDP (fragmentation and QUIC advice)
	// NoCount marks framing that rides outside the link MTU (an 802.1Q tag on
	// a port that accepts 1522-byte frames). Its bytes are shown but not
	// subtracted.
	NoCount bool
	RFC     string
}

func sum(ps []Part) int {
	n := 0
	for _, p := range ps {
		n += p.Bytes
	}
	return n
}

// fixed is the overhead of the layer when no padding is needed.
func (l *Layer) fixed() int {
	if l.NoCount {
		return 0
	}
	return sum(l.Head) + sum(l.Tail)
}

// pad returns the padding added to an inner packet of p bytes when the
// layer's own MTU (the largest inner packet it accepts) is mtu.
func (l *Layer) pad(p, mtu int) int {
	if l.Block <= 1 {
		return 0
	}
	if l.PadCap {
		padded := roundUp(p, l.Block)
		if limit := max(mtu, p); padded > limit {
			padded = limit
		}
		return padded - p
	}
	x := p - l.Keep + l.Region + l.MinPad
	return l.MinPad + mod(-x, l.Block)
}

// outer is the size of the packet this layer emits for an inner packet of p
// bytes; mtu is the layer's own MTU (only WireGuard's capped padding needs it).
func (l *Layer) outer(p, mtu int) int {
	return l.fixed() + p + l.pad(p, mtu)
}

// maxInner is the largest inner packet whose outer size fits in room bytes,
// or a negative number when none does. outer is monotone in p, so this is
// exact; for padded layers it is the closed form of xfrm_state_mtu.
func (l *Layer) maxInner(room int) int {
	f := l.fixed()
	if l.Block <= 1 || l.PadCap {
		return room - f
	}
	avail := room - f - l.Keep + l.Region
	if avail < 0 {
		return -1
	}
	return avail/l.Block*l.Block + l.Keep - l.Region - l.MinPad
}

func roundUp(x, b int) int { return (x + b - 1) / b * b }

// mod is the mathematical modulus (never negative).
func mod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
