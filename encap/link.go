package encap

import "fmt"

// Link framing: headers carried in the link's own frames.

func ipv6Arg(doc string) argDef { return argDef{name: "ipv6", doc: doc} }

func outerIP(f Family) Part {
	if f == IPv6 {
		return Part{Name: "outer IPv6", Bytes: 40}
	}
	return Part{Name: "outer IPv4", Bytes: 20}
}

func famOf(a args) Family {
	if a.has("ipv6") {
		return IPv6
	}
	return IPv4
}

var udpPart = Part{Name: "UDP", Bytes: 8}

// innerEthernet names the Ethernet header a layer carries inside it.
const innerEthernet = "inner Ethernet"

func ethPart(vlan bool) []Part {
	ps := []Part{{Name: innerEthernet, Bytes: 14}}
	if vlan {
		ps = append(ps, Part{Name: "inner 802.1Q tag", Bytes: 4})
	}
	return ps
}

func init() {
	define(&layerDef{
		name:    "eth",
		aliases: []string{"ethernet"},
		summary: "an Ethernet header carried inside a tunnel (14 bytes; the link's own Ethernet never counts)",
		rfc:     "IEEE 802.3",
		args:    []argDef{{name: "vlan", doc: "with an 802.1Q tag (+4)"}},
		build: func(a args) (Layer, error) {
			return Layer{Kind: KindLink, Head: ethPart(a.has("vlan"))}, nil
		},
	})
	tag := func(name string, tags int, std, rfc string) {
		define(&layerDef{
			name: name,
			summary: fmt.Sprintf("%d VLAN tag(s), %d bytes in the frame; outside the IP MTU on ports that accept %d-byte frames (the norm), "+
				"counted only with 'capped' when the L2 path caps the frame", tags, 4*tags, 1518+4*tags),
			rfc:  rfc,
			args: []argDef{{name: "capped", doc: "the L2 path caps the frame at MTU+18, so the tag takes room from the IP packet"}},
			build: func(a args) (Layer, error) {
				var ps []Part
				for i := 0; i < tags; i++ {
					ps = append(ps, Part{Name: std, Bytes: 4})
				}
				return Layer{Kind: KindLink, Head: ps, NoCount: !a.has("capped")}, nil
			},
		})
	}
	tag("dot1q", 1, "802.1Q tag", "IEEE 802.1Q")
	tag("qinq", 2, "802.1ad tag", "IEEE 802.1ad")
	define(&layerDef{
		name:    "pppoe",
		summary: "PPPoE session header 6 + PPP protocol 2: MTU 1492 on Ethernet (RFC 4638 baby jumbo: use --mtu 1508)",
		rfc:     "RFC 2516",
		traits:  PPPSession,
		build: func(args) (Layer, error) {
			return Layer{Kind: KindLink, Head: []Part{{Name: "PPPoE header", Bytes: 6}, {Name: "PPP protocol", Bytes: 2}}}, nil
		},
	})
	define(&layerDef{
		name:    "mpls",
		summary: "MPLS label stack, 4 bytes per label, optional pseudowire control word",
		rfc:     "RFC 3032, RFC 4385",
		args: []argDef{
			{name: "labels", isInt: true, min: 1, max: 16, def: 1, doc: "labels in the stack, 4 bytes each"},
			{name: "cw", doc: "pseudowire control word (+4)"},
		},
		build: func(a args) (Layer, error) {
			var ps []Part
			for i := 0; i < a.num("labels"); i++ {
				ps = append(ps, Part{Name: "MPLS label", Bytes: 4})
			}
			if a.has("cw") {
				ps = append(ps, Part{Name: "PW control word", Bytes: 4})
			}
			return Layer{Kind: KindLink, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "macsec",
		summary: "MACsec SecTAG 16 with SCI (8 without) and ICV 16; Linux macsec devices get lower MTU - 32",
		rfc:     "IEEE 802.1AE",
		args:    []argDef{{name: "nosci", doc: "SecTAG without the 8-byte SCI"}},
		build: func(a args) (Layer, error) {
			tag := 16
			if a.has("nosci") {
				tag = 8
			}
			return Layer{Kind: KindLink, Head: []Part{{Name: "MACsec SecTAG", Bytes: tag}}, Tail: []Part{{Name: "MACsec ICV", Bytes: 16}}}, nil
		},
	})
}
