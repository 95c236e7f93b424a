package encap

import "fmt"

// IPsec: ESP (RFC 4303) and AH (RFC 4302).

// espCipher is an ESP encryption transform: IV on the wire, block size for
// padding (at least 4, RFC 4303 §2.4) and, for AEADs, the ICV.
type espCipher struct {
	name  string
	iv    int
	block int
	icv   int // AEAD tag; 0 for ciphers that need an integrity algorithm
	rfc   string
	iiv   bool // has an implicit-IV variant (RFC 8750)
}

var espCiphers = []espCipher{
	{"aes-cbc", 16, 16, 0, "RFC 3602", false},
	{"3des", 8, 8, 0, "RFC 2451", false},
	{"aes-ctr", 8, 4, 0, "RFC 3686", false},
	{"null", 0, 4, 0, "RFC 2410", false},
	{"aes-gcm-8", 8, 4, 8, "RFC 4106", false},
	{"aes-gcm-12", 8, 4, 12, "RFC 4106", false},
	{"aes-gcm-16", 8, 4, 16, "RFC 4106", true},
	{"aes-gcm", 8, 4, 16, "RFC 4106", true},
	{"aes-ccm-8", 8, 4, 8, "RFC 4309", true},
	{"aes-ccm-12", 8, 4, 12, "RFC 4309", false},
	{"aes-ccm-16", 8, 4, 16, "RFC 4309", false},
	{"aes-gmac", 8, 4, 16, "RFC 4543", false},
	{"chacha20-poly1305", 8, 4, 16, "RFC 7634", true},
}

// integrity algorithms and their truncated ICV lengths.
var integrity = []struct {
	name, long string
	icv        int
}{
	{"md5", "HMAC-MD5-96", 12},
	{"sha1", "HMAC-SHA1-96", 12},
	{"sha256", "HMAC-SHA-256-128", 16},
	{"sha384", "HMAC-SHA-384-192", 24},
	{"sha512", "HMAC-SHA-512-256", 32},
	{"xcbc", "AES-XCBC-MAC-96", 12},
}

func integArgs(def string) []argDef {
	var as []argDef
	for _, in := range integrity {
		d := fmt.Sprintf("%s, ICV %d", in.long, in.icv)
		if in.name == def {
			d += " (default)"
		}
		as = append(as, argDef{name: in.name, group: "integrity", doc: d})
	}
	return as
}

func integOf(name string) (string, int) {
	for _, in := range integrity {
		if in.name == name {
			return in.long, in.icv
		}
	}
	return "", 0
}

func init() {
	var as []argDef
	for _, c := range espCiphers {
		d := fmt.Sprintf("%s: IV %d, pads to %d", c.rfc, c.iv, c.block)
		if c.icv > 0 {
			d += fmt.Sprintf(", ICV %d (AEAD)", c.icv)
		}
		if c.name == "aes-gcm-16" {
			d += " (default)"
		}
		as = append(as, argDef{name: c.name, group: "cipher", doc: d})
	}
	as = append(as, integArgs("sha256")...)
	as = append(as,
		argDef{name: "tunnel", group: "mode", doc: "tunnel mode: a new outer IP header (default)"},
		argDef{name: "transport", group: "mode", doc: "transport mode: ESP after the packet's own IP header"},
		argDef{name: "nat-t", doc: "UDP encapsulation for NAT traversal, RFC 3948 (+8)"},
		argDef{name: "implicit-iv", doc: "RFC 8750 implicit IV (aes-gcm-16, aes-ccm-8, chacha20-poly1305): no IV on the wire"},
		ipv6Arg("IPv6: outer header in tunnel mode (+20), the protected packet's header in transport mode"),
	)
	define(&layerDef{
		name: "esp",
		summary: "IPsec ESP, exact with padding (RFC 4303 §2.4, Linux xfrm_state_mtu): SPI 4 + sequence 4 + IV + payload + " +
			"padding + pad length 1 + next header 1 + ICV; default aes-gcm-16, tunnel mode, IPv4",
		rfc:    "RFC 4303",
		traits: Protects,
		args:   as,
		build:  buildESP,
	})
	ahArgs := append(integArgs("sha256"), argDef{name: "aes-gmac", group: "integrity", doc: "AES-GMAC, ICV 16 plus IV 8 (RFC 4543)"},
		argDef{name: "tunnel", group: "mode", doc: "tunnel mode: a new outer IP header (default)"},
		argDef{name: "transport", group: "mode", doc: "transport mode"},
		ipv6Arg("IPv6 (outer header +20 in tunnel mode; AH padded to 8 bytes)"))
	define(&layerDef{
		name:    "ah",
		summary: "IPsec AH: 12 + ICV, padded to 4 (IPv4) or 8 (IPv6) bytes; HMAC-SHA1-96 gives 24",
		rfc:     "RFC 4302",
		traits:  Protects,
		args:    ahArgs,
		build:   buildAH,
	})
}

func buildESP(a args) (Layer, error) {
	cname := a.pick("cipher", "aes-gcm-16")
	var c espCipher
	for _, x := range espCiphers {
		if x.name == cname {
			c = x
		}
	}
	iname, hasInteg := a.group(a.def, "integrity")
	icvName, icv := "", c.icv
	switch {
	case c.icv > 0 && hasInteg:
		return Layer{}, fmt.Errorf("%s is an AEAD with its own %d-byte ICV; it takes no integrity algorithm (%s)", cname, c.icv, iname)
	case c.icv > 0:
		icvName = cname + " ICV"
	default:
		if !hasInteg {
			if cname == "null" {
				return Layer{}, fmt.Errorf("null encryption needs an integrity algorithm (RFC 4303 §3.2: both must not be NULL)")
			}
			iname = "sha256" // RFC 8221: HMAC-SHA2-256-128 MUST
		}
		long, n := integOf(iname)
		icvName, icv = "ESP ICV ("+long+")", n
	}
	iv := c.iv
	if a.has("implicit-iv") {
		if !c.iiv {
			return Layer{}, fmt.Errorf("implicit-iv is defined for aes-gcm-16, aes-ccm-8 and chacha20-poly1305 only (RFC 8750), not %s", cname)
		}
		iv = 0
	}
	f := famOf(a)
	transport := a.pick("mode", "tunnel") == "transport"
	l := Layer{Kind: KindIPsec, Outer: f, Block: max(4, c.block), Region: 2}
	if transport {
		l.Keep = f.HeaderLen()
	} else {
		l.Head = append(l.Head, outerIP(f))
	}
	if a.has("nat-t") {
		l.Head = append(l.Head, Part{Name: "NAT-T UDP", Bytes: 8})
		l.UDP = true
	}
	l.Head = append(l.Head, Part{Name: "ESP SPI", Bytes: 4}, Part{Name: "ESP sequence", Bytes: 4})
	if iv > 0 {
		l.Head = append(l.Head, Part{Name: "ESP IV (" + cname + ")", Bytes: iv})
	}
	l.Tail = []Part{{Name: "ESP pad length and next header", Bytes: 2}, {Name: icvName, Bytes: icv}}
	return l, nil
}

func buildAH(a args) (Layer, error) {
	f := famOf(a)
	iname := a.pick("integrity", "sha256")
	icv, long, extra := 16, "AES-GMAC", 8
	if iname != "aes-gmac" {
		long, icv = integOf(iname)
		extra = 0
	}
	align := 4
	if f == IPv6 {
		align = 8
	}
	body := 12 + extra + icv
	l := Layer{Kind: KindIPsec, Outer: f}
	if a.pick("mode", "tunnel") == "tunnel" {
		l.Head = append(l.Head, outerIP(f))
	} else {
		l.Keep = f.HeaderLen() // AH follows the protected packet's IP header
	}
	l.Head = append(l.Head, Part{Name: "AH header", Bytes: 12})
	if extra > 0 {
		l.Head = append(l.Head, Part{Name: "AH IV (AES-GMAC)", Bytes: extra})
	}
	l.Head = append(l.Head, Part{Name: "AH ICV (" + long + ")", Bytes: icv})
	if p := roundUp(body, align) - body; p > 0 {
		l.Head = append(l.Head, Part{Name: "AH ICV padding", Bytes: p})
	}
	return l, nil
}
