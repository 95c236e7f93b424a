package encap

import "fmt"

// Bare IP encapsulations: IP-in-IP, 6in4, IPv6 tunnels and SRv6.

var encapLimit = Part{Name: "IPv6 encapsulation limit option", Bytes: 8}

func ip6Head(a args, limitByDefault bool) []Part {
	ps := []Part{outerIP(IPv6)}
	if limitByDefault && !a.has("noencaplimit") || a.has("encap-limit") {
		ps = append(ps, encapLimit)
	}
	return ps
}

func init() {
	define(&layerDef{
		name:    "ipv4",
		summary: "an IPv4 header (20 bytes, plus options)",
		rfc:     "RFC 791",
		args:    []argDef{{name: "options", isInt: true, min: 0, max: 40, step: 4, doc: "IPv4 options bytes"}},
		build: func(a args) (Layer, error) {
			ps := []Part{outerIP(IPv4)}
			if n := a.num("options"); n > 0 {
				ps = append(ps, Part{Name: "IPv4 options", Bytes: n})
			}
			return Layer{Kind: KindIP, Outer: IPv4, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "ipv6",
		summary: "an IPv6 header (40 bytes); encap-limit adds the 8-byte destination option of RFC 2473",
		rfc:     "RFC 8200, RFC 2473",
		args:    []argDef{{name: "encap-limit", doc: "tunnel encapsulation limit destination option (+8)"}},
		build: func(a args) (Layer, error) {
			return Layer{Kind: KindIP, Outer: IPv6, Head: ip6Head(a, false)}, nil
		},
	})
	define(&layerDef{
		name:    "ipip",
		summary: "IPv4 in IPv4 (Linux ipip: 1480 on 1500)",
		rfc:     "RFC 2003",
		build: func(args) (Layer, error) {
			return Layer{Kind: KindTunnel, Outer: IPv4, Head: []Part{outerIP(IPv4)}}, nil
		},
	})
	define(&layerDef{
		name:    "sit",
		aliases: []string{"6in4"},
		summary: "IPv6 in IPv4 (Linux sit: 1480 on 1500)",
		rfc:     "RFC 4213",
		build: func(args) (Layer, error) {
			return Layer{Kind: KindTunnel, Outer: IPv4, Head: []Part{outerIP(IPv4)}}, nil
		},
	})
	define(&layerDef{
		name:    "ip6tnl",
		aliases: []string{"4in6", "6in6"},
		summary: "IPv4 or IPv6 in IPv6; with the encapsulation limit option by default, like Linux (1452 on 1500)",
		rfc:     "RFC 2473",
		args:    []argDef{{name: "noencaplimit", doc: "without the encapsulation limit option (encaplimit none): -8"}},
		build: func(a args) (Layer, error) {
			return Layer{Kind: KindTunnel, Outer: IPv6, Head: ip6Head(a, true)}, nil
		},
	})
	define(&layerDef{
		name:    "srv6",
		summary: "SRv6 H.Encaps: outer IPv6 40 + SRH 8 + 16 per SID; reduced (H.Encaps.Red) omits the first SID, and the SRH for one SID",
		rfc:     "RFC 8754, RFC 8986",
		args: []argDef{
			{name: "sids", isInt: true, min: 1, max: 32, def: 1, doc: "segments in the list"},
			{name: "reduced", doc: "H.Encaps.Red"},
		},
		build: func(a args) (Layer, error) {
			n := a.num("sids")
			if a.has("reduced") {
				n--
			}
			ps := []Part{outerIP(IPv6)}
			if n > 0 {
				ps = append(ps, Part{Name: "SRH", Bytes: 8}, Part{Name: fmt.Sprintf("SRH segment list (%d SIDs)", n), Bytes: 16 * n})
			}
			return Layer{Kind: KindTunnel, Outer: IPv6, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "xlat",
		aliases: []string{"siit", "464xlat", "map-t"},
		summary: "stateless IPv4/IPv6 translation (SIIT; MAP-T, 464XLAT): the IPv4 header (20) becomes an IPv6 header (40), +20; +8 more with a fragment header (IPv4 packets without DF)",
		rfc:     "RFC 7915, RFC 7599, RFC 6877",
		args:    []argDef{{name: "frag", doc: "the translator adds an IPv6 fragment header, as for IPv4 packets without DF (RFC 7915 §4.1): +8"}},
		build: func(a args) (Layer, error) {
			ps := []Part{{Name: "IPv6 header in place of IPv4 (40 - 20)", Bytes: 20}}
			if a.has("frag") {
				ps = append(ps, Part{Name: "IPv6 fragment header", Bytes: 8})
			}
			return Layer{Kind: KindIP, Outer: IPv6, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "udp",
		summary: "a bare UDP header (8 bytes), for stacks not in the catalog",
		rfc:     "RFC 768",
		build: func(args) (Layer, error) {
			return Layer{Kind: KindIP, Head: []Part{udpPart}, UDP: true}, nil
		},
	})
}
