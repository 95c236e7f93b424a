package encap

// WireGuard and OpenVPN.

func init() {
	define(&layerDef{
		name:    "wireguard",
		aliases: []string{"wg"},
		summary: "WireGuard: outer IP 20 + UDP 8 + 32 (type 4, receiver 4, counter 8, Poly1305 tag 16) = 60, 80 over IPv6; " +
			"pads to 16 but never past its MTU. Linux's default 1420 assumes an IPv6 underlay",
		rfc:    "WireGuard whitepaper §5.4.6; Linux drivers/net/wireguard",
		traits: Protects,
		args:   []argDef{ipv6Arg("IPv6 underlay (+20)")},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			return Layer{Kind: KindVPN, Outer: f, UDP: true, Block: 16, PadCap: true,
				Head: udpTunnel(f, Part{Name: "WireGuard type and reserved", Bytes: 4}, Part{Name: "WireGuard receiver index", Bytes: 4}, Part{Name: "WireGuard counter", Bytes: 8}),
				Tail: []Part{{Name: "Poly1305 tag", Bytes: 16}}}, nil
		},
	})
	define(&layerDef{
		name:    "openvpn",
		aliases: []string{"ovpn"},
		summary: "OpenVPN data channel (P_DATA_V2): AEAD 52 over UDP/IPv4; CBC+HMAC pads with PKCS#7 to 16",
		rfc:     "OpenVPN protocol (openvpn/src/openvpn/ssl_pkt.h, crypto.c)",
		traits:  Protects,
		args: []argDef{
			{name: "udp", group: "transport", doc: "over UDP (default)"},
			{name: "tcp", group: "transport", doc: "over TCP: TCP header 20 + 2-byte packet length instead of UDP 8"},
			{name: "aead", group: "cipher", doc: "AES-GCM or ChaCha20-Poly1305: packet ID 4 + tag 16 (default)"},
			{name: "cbc-sha1", group: "cipher", doc: "AES-CBC with HMAC-SHA1 (20): IV 16, PKCS#7 padding 1-16"},
			{name: "cbc-sha256", group: "cipher", doc: "AES-CBC with HMAC-SHA256 (32)"},
			{name: "cbc-sha512", group: "cipher", doc: "AES-CBC with HMAC-SHA512 (64)"},
			{name: "tap", doc: "TAP mode: carries the inner Ethernet header (+14)"},
			ipv6Arg("IPv6 underlay (+20)"),
		},
		build: func(a args) (Layer, error) {
			f := famOf(a)
			ps := []Part{outerIP(f)}
			l := Layer{Kind: KindVPN, Outer: f}
			if a.pick("transport", "udp") == "tcp" {
				ps = append(ps, Part{Name: "TCP", Bytes: 20}, Part{Name: "OpenVPN packet length", Bytes: 2})
			} else {
				ps = append(ps, udpPart)
				l.UDP = true
			}
			ps = append(ps, Part{Name: "OpenVPN opcode and peer ID", Bytes: 4})
			switch c := a.pick("cipher", "aead"); c {
			case "aead":
				ps = append(ps, Part{Name: "OpenVPN packet ID", Bytes: 4}, Part{Name: "AEAD tag", Bytes: 16})
			default:
				h := map[string]int{"cbc-sha1": 20, "cbc-sha256": 32, "cbc-sha512": 64}[c]
				ps = append(ps, Part{Name: "HMAC", Bytes: h}, Part{Name: "CBC IV", Bytes: 16}, Part{Name: "OpenVPN packet ID (encrypted)", Bytes: 4})
				l.Block, l.Region, l.MinPad = 16, 4, 1
			}
			if a.has("tap") {
				ps = append(ps, ethPart(false)...)
			}
			l.Head = ps
			return l, nil
		},
	})
}
