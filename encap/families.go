package encap

import "fmt"

// Family of tunnels: when all an engineer knows is "some IPsec tunnel", the
// variants below are what it might be. The simulator (plpmtud/sim) and the
// throughput chooser (tput) both draw path MTU distributions from these
// lists, so they reason about the same variants.

// TunnelFamily names a kind of tunnel and the stacks it commonly is.
type TunnelFamily struct {
	Name    string
	Summary string
	Specs   []string
}

// TunnelFamilies are the families the seed article names (IPsec, GRE, VXLAN,
// MPLS, PPPoE, GTP-U), plus WireGuard.
var TunnelFamilies = []TunnelFamily{
	{"ipsec", "ESP tunnel mode: AES-GCM, AES-CBC with SHA-1/256/512, 3DES, ChaCha20-Poly1305; each with and without NAT-T", func() []string {
		var out []string
		for _, c := range []string{"aes-gcm-16", "aes-cbc,sha1", "aes-cbc,sha256", "aes-cbc,sha512", "3des,sha1", "chacha20-poly1305"} {
			out = append(out, "esp("+c+")", "esp("+c+",nat-t)")
		}
		return out
	}()},
	{"gre", "GRE with and without key, over IPv4 and IPv6", []string{"gre", "gre(key)", "gre(ipv6)", "gre(key,ipv6)"}},
	{"vxlan", "VXLAN over IPv4 and IPv6, with and without an inner VLAN tag", []string{"vxlan", "vxlan(ipv6)", "vxlan(vlan)", "vxlan(ipv6,vlan)"}},
	{"mpls", "MPLS with 1, 2 and 3 labels", []string{"mpls", "mpls(labels=2)", "mpls(labels=3)"}},
	{"pppoe", "PPPoE, alone and carrying GRE, WireGuard or IPsec", []string{"pppoe", "pppoe/gre", "pppoe/wireguard", "pppoe/esp"}},
	{"gtpu", "GTP-U 4G and 5G (PDU session container), over IPv4 and IPv6", []string{"gtpu", "gtpu(5g)", "gtpu(ipv6)", "gtpu(5g,ipv6)"}},
	{"wireguard", "WireGuard over IPv4 and IPv6", []string{"wireguard", "wireguard(ipv6)"}},
}

// Variant is one stack of a tunnel family and the largest packet of the
// connection's family that crosses it.
type Variant struct {
	Stack   *Stack
	PathMTU int
}

// Variants are the family's stacks on a link of linkMTU, each riding on
// outer (nil or empty: on the link itself), with the path MTU a connection
// of family f sees inside: the stack's tunnel MTU, which an IPv6
// connection needs to be at least 1280 (RFC 8200 §5). Variants that cannot
// carry f on this link are left out; none at all is an error. This is the
// one "tunnel family -> path MTUs" the simulator and tput share.
func (t TunnelFamily) Variants(linkMTU int, outer *Stack, f Family) ([]Variant, error) {
	var out []Variant
	for _, sp := range t.Specs {
		full := sp
		if outer != nil && len(outer.Layers) > 0 {
			full = outer.String() + "/" + sp
		}
		st, err := Parse(full)
		if err != nil {
			return nil, fmt.Errorf("tunnel %s variant %s: %w", t.Name, full, err)
		}
		m, err := st.TunnelMTU(linkMTU)
		if err != nil || m < f.MinMTU() {
			continue // this variant cannot carry the family on this link
		}
		out = append(out, Variant{Stack: st, PathMTU: m})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s variant carries %s on a %d-byte link", t.Name, f, linkMTU)
	}
	return out, nil
}
