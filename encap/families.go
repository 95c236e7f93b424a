package encap

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
