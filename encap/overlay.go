package encap

import "fmt"

// UDP overlays and pseudowires: VXLAN, VXLAN-GPE, GENEVE, GTP-U, LISP, L2TP.

func udpTunnel(f Family, ps ...Part) []Part {
	return append([]Part{outerIP(f), udpPart}, ps...)
}

func init() {
	define(&layerDef{
		name:    "vxlan",
		summary: "VXLAN: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50 (70 over IPv6); the 50 is the inner Ethernet, not the outer",
		rfc:     "RFC 7348",
		args:    []argDef{ipv6Arg("IPv6 underlay (+20)"), {name: "vlan", doc: "inner frames carry an 802.1Q tag (+4)"}},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			return Layer{Kind: KindOverlay, Outer: f, UDP: true,
				Head: append(udpTunnel(f, Part{Name: "VXLAN header", Bytes: 8}), ethPart(a.has("vlan"))...)}, nil
		},
	})
	define(&layerDef{
		name:    "vxlan-gpe",
		summary: "VXLAN-GPE carrying IP directly: outer IP 20 + UDP 8 + GPE 8 = 36 (56 over IPv6)",
		rfc:     "draft-ietf-nvo3-vxlan-gpe",
		args:    []argDef{ipv6Arg("IPv6 underlay (+20)"), {name: "eth", doc: "carrying Ethernet frames (+14)"}},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			l := Layer{Kind: KindTunnel, Outer: f, UDP: true, Head: udpTunnel(f, Part{Name: "VXLAN-GPE header", Bytes: 8})}
			if a.has("eth") {
				l.Kind = KindOverlay
				l.Head = append(l.Head, ethPart(false)...)
			}
			return l, nil
		},
	})
	define(&layerDef{
		name:    "geneve",
		summary: "GENEVE: outer IP 20 + UDP 8 + GENEVE 8 + options + inner Ethernet 14 = 50 (70 over IPv6) + options; ip: IP payload, no inner Ethernet (36 + options)",
		rfc:     "RFC 8926",
		args: []argDef{
			{name: "opts", isInt: true, min: 0, max: 252, step: 4, doc: "option bytes (4-byte units, up to 252)"},
			ipv6Arg("IPv6 underlay (+20)"),
			{name: "ip", doc: "carrying IP packets directly, protocol type 0x0800/0x86DD (RFC 8926 §3.4), as AWS Gateway Load Balancer does: no inner Ethernet (-14)"},
		},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			ps := udpTunnel(f, Part{Name: "GENEVE header", Bytes: 8})
			if n := a.num("opts"); n > 0 {
				ps = append(ps, Part{Name: "GENEVE options", Bytes: n})
			}
			if a.has("ip") {
				return Layer{Kind: KindTunnel, Outer: f, UDP: true, Head: ps}, nil
			}
			return Layer{Kind: KindOverlay, Outer: f, UDP: true, Head: append(ps, ethPart(false)...)}, nil
		},
	})
	define(&layerDef{
		name:    "gtpu",
		aliases: []string{"gtp-u"},
		summary: "GTP-U: outer IP 20 + UDP 8 + GTP 8 = 36 (4G); 5g adds the optional fields 4 and a PDU session container 4 = 44",
		rfc:     "3GPP TS 29.281, TS 38.415",
		args: []argDef{
			{name: "5g", doc: "PDU session container extension (5G N3/N9): +8"},
			{name: "ext", isInt: true, min: 0, max: 64, doc: "further extension headers, in 4-byte units"},
			{name: "seq", doc: "sequence number present (S flag): optional fields +4"},
			ipv6Arg("IPv6 underlay (+20)"),
		},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			ps := udpTunnel(f, Part{Name: "GTP-U header", Bytes: 8})
			units := a.num("ext")
			if a.has("5g") {
				units++
			}
			if units > 0 || a.has("seq") {
				ps = append(ps, Part{Name: "GTP-U optional fields (seq, N-PDU, next ext)", Bytes: 4})
			}
			if a.has("5g") {
				ps = append(ps, Part{Name: "PDU session container", Bytes: 4})
				units--
			}
			if units > 0 {
				ps = append(ps, Part{Name: fmt.Sprintf("GTP-U extension headers (%d x 4)", units), Bytes: 4 * units})
			}
			return Layer{Kind: KindTunnel, Outer: f, UDP: true, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "lisp",
		summary: "LISP data plane: outer IP 20 + UDP 8 + LISP 8 = 36 (56 over IPv6)",
		rfc:     "RFC 9300",
		args:    []argDef{ipv6Arg("IPv6 underlay (+20)")},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			return Layer{Kind: KindTunnel, Outer: f, UDP: true, Head: udpTunnel(f, Part{Name: "LISP header", Bytes: 8})}, nil
		},
	})
	define(&layerDef{
		name:    "l2tpv2",
		aliases: []string{"l2tp"},
		summary: "L2TPv2 with PPP: outer IP 20 + UDP 8 + L2TP 6 + PPP 4 = 38; +2 length, +4 sequence, +2 offset; acfc: PPP 2",
		rfc:     "RFC 2661",
		args: []argDef{
			{name: "len", doc: "length field present (L bit): +2"},
			{name: "seq", doc: "Ns/Nr present (S bit): +4"},
			{name: "offset", doc: "offset size field (O bit, zero offset): +2"},
			{name: "acfc", doc: "PPP address/control field compression: PPP header 2 instead of 4"},
			ipv6Arg("IPv6 underlay (+20)"),
		},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			ps := udpTunnel(f, Part{Name: "L2TP header (flags, tunnel, session)", Bytes: 6})
			if a.has("len") {
				ps = append(ps, Part{Name: "L2TP length", Bytes: 2})
			}
			if a.has("seq") {
				ps = append(ps, Part{Name: "L2TP Ns/Nr", Bytes: 4})
			}
			if a.has("offset") {
				ps = append(ps, Part{Name: "L2TP offset size", Bytes: 2})
			}
			if a.has("acfc") {
				ps = append(ps, Part{Name: "PPP protocol", Bytes: 2})
			} else {
				ps = append(ps, Part{Name: "PPP address, control, protocol", Bytes: 4})
			}
			return Layer{Kind: KindTunnel, Outer: f, UDP: true, Head: ps}, nil
		},
	})
	define(&layerDef{
		name:    "l2tpv3",
		summary: "L2TPv3: over IP 20 + session 4 + cookie; over UDP 20 + 8 + 4 + session 4 + cookie; eth adds the carried Ethernet 14",
		rfc:     "RFC 3931, RFC 4719",
		args: []argDef{
			{name: "ip", group: "transport", doc: "directly over IP, protocol 115 (default)"},
			{name: "udp", group: "transport", doc: "over UDP: +8 UDP and +4 header"},
			{name: "cookie", isInt: true, min: 0, max: 8, step: 4, doc: "cookie bytes: 0, 4 or 8"},
			{name: "l2spec", doc: "default L2-specific sublayer (+4)"},
			{name: "eth", doc: "Ethernet pseudowire: carries the inner Ethernet header (+14)"},
			ipv6Arg("IPv6 underlay (+20)"),
		},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			ps := []Part{outerIP(f)}
			udp := a.pick("transport", "ip") == "udp"
			if udp {
				ps = append(ps, udpPart, Part{Name: "L2TPv3 header (flags, version, reserved)", Bytes: 4})
			}
			ps = append(ps, Part{Name: "L2TPv3 session ID", Bytes: 4})
			if n := a.num("cookie"); n > 0 {
				ps = append(ps, Part{Name: "L2TPv3 cookie", Bytes: n})
			}
			if a.has("l2spec") {
				ps = append(ps, Part{Name: "L2-specific sublayer", Bytes: 4})
			}
			l := Layer{Kind: KindTunnel, Outer: f, UDP: udp, Head: ps}
			if a.has("eth") {
				l.Kind = KindOverlay
				l.Head = append(l.Head, ethPart(false)...)
			}
			return l, nil
		},
	})
}
