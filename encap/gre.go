package encap

import "fmt"

// GRE and the Ethernet-over-GRE family.

func greHead(a args, v6 bool) []Part {
	var ps []Part
	if v6 {
		ps = ip6Head(a, true)
	} else {
		ps = []Part{outerIP(IPv4)}
	}
	ps = append(ps, Part{Name: "GRE header", Bytes: 4})
	if a.has("csum") {
		ps = append(ps, Part{Name: "GRE checksum", Bytes: 4})
	}
	if a.has("key") {
		ps = append(ps, Part{Name: "GRE key", Bytes: 4})
	}
	if a.has("seq") {
		ps = append(ps, Part{Name: "GRE sequence", Bytes: 4})
	}
	return ps
}

func greArgs(v6Flag, vlan bool) []argDef {
	as := []argDef{
		{name: "key", doc: "key field (+4)"},
		{name: "seq", doc: "sequence number field (+4)"},
		{name: "csum", doc: "checksum field (+4)"},
	}
	if v6Flag {
		as = append(as, ipv6Arg("IPv6 underlay (ip6gre): outer IPv6 40 and, as on Linux, the encapsulation limit option 8"))
	}
	as = append(as, argDef{name: "noencaplimit", doc: "IPv6 underlay without the encapsulation limit option (-8)"})
	if vlan {
		as = append(as, argDef{name: "vlan", doc: "inner frames carry an 802.1Q tag (+4)"})
	}
	return as
}

func greBuild(forceV6, eth bool) func(a args) (Layer, error) {
	return func(a args) (Layer, error) {
		v6 := forceV6 || a.has("ipv6")
		if a.has("noencaplimit") && !v6 {
			return Layer{}, fmt.Errorf("noencaplimit only applies to an IPv6 underlay")
		}
		l := Layer{Kind: KindTunnel, Outer: IPv4, Head: greHead(a, v6)}
		if v6 {
			l.Outer = IPv6
		}
		if eth {
			l.Kind = KindOverlay
			l.Head = append(l.Head, ethPart(a.has("vlan"))...)
		}
		return l, nil
	}
}

func init() {
	define(&layerDef{
		name:    "gre",
		summary: "GRE: outer IP 20 + GRE 4, +4 each for checksum, key, sequence (Linux gre: 1476 on 1500)",
		rfc:     "RFC 2784, RFC 2890",
		traits:  GRETunnel,
		args:    greArgs(true, false),
		build:   greBuild(false, false),
	})
	define(&layerDef{
		name:    "ip6gre",
		summary: "GRE over IPv6: outer IPv6 40 + encapsulation limit 8 + GRE 4 (Linux ip6gre: 1448 on 1500)",
		rfc:     "RFC 7676, RFC 2473",
		traits:  GRETunnel,
		args:    greArgs(false, false),
		build:   greBuild(true, false),
	})
	define(&layerDef{
		name:    "gretap",
		summary: "Ethernet over GRE: GRE 24 + inner Ethernet 14 (Linux gretap: 1462 on 1500)",
		rfc:     "RFC 1701, RFC 2784",
		traits:  GRETunnel,
		args:    greArgs(true, true),
		build:   greBuild(false, true),
	})
	define(&layerDef{
		name:    "ip6gretap",
		summary: "Ethernet over GRE over IPv6: 40 + 8 encapsulation limit + GRE 4 + inner Ethernet 14",
		rfc:     "RFC 7676, RFC 2473",
		traits:  GRETunnel,
		args:    greArgs(false, true),
		build:   greBuild(true, true),
	})
	define(&layerDef{
		name:    "nvgre",
		summary: "NVGRE: outer IP 20 + GRE with key (VSID) 8 + inner Ethernet 14",
		rfc:     "RFC 7637",
		args:    []argDef{ipv6Arg("IPv6 underlay (+20)")},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			return Layer{Kind: KindOverlay, Outer: f, Head: append([]Part{outerIP(f), {Name: "GRE header", Bytes: 4}, {Name: "GRE key (VSID, FlowID)", Bytes: 4}}, ethPart(false)...)}, nil
		},
	})
	define(&layerDef{
		name:    "eoip",
		summary: "MikroTik EoIP: outer IPv4 20 + EoIP's GRE header 8 (not 4) + inner Ethernet 14",
		rfc:     "MikroTik EoIP (GRE protocol 0x6400)",
		build: func(args) (Layer, error) {
			return Layer{Kind: KindOverlay, Outer: IPv4, Head: append([]Part{outerIP(IPv4), {Name: "EoIP GRE header", Bytes: 4}, {Name: "EoIP length and tunnel ID", Bytes: 4}}, ethPart(false)...)}, nil
		},
	})
}
