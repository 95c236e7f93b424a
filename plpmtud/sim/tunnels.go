package sim

import (
	"fmt"
	"sort"

	"github.com/mtukit/mtukit/encap"
)

// Tunnel is a family of encapsulations. Its path MTU distribution gives
// each stack equal weight and takes the tunnel MTU from package encap on a
// link of LinkMTU: real overheads, not a table.
type Tunnel struct {
	Name    string
	Summary string
	Stacks  []string
	LinkMTU int
}

// ipsecStacks: the common ESP suites, each with and without NAT-T.
var ipsecStacks = func() []string {
	var out []string
	for _, c := range []string{"aes-gcm-16", "aes-cbc,sha1", "aes-cbc,sha256", "aes-cbc,sha512", "3des,sha1", "chacha20-poly1305"} {
		out = append(out, "esp("+c+")", "esp("+c+",nat-t)")
	}
	return out
}()

// Tunnels are the families the seed article names, plus WireGuard.
var Tunnels = []Tunnel{
	{"ipsec", "ESP tunnel mode: AES-GCM, AES-CBC with SHA-1/256/512, 3DES, ChaCha20-Poly1305; each with and without NAT-T", ipsecStacks, 1500},
	{"gre", "GRE with and without key, over IPv4 and IPv6", []string{"gre", "gre(key)", "gre(ipv6)", "gre(key,ipv6)"}, 1500},
	{"vxlan", "VXLAN over IPv4 and IPv6, with and without an inner VLAN tag", []string{"vxlan", "vxlan(ipv6)", "vxlan(vlan)", "vxlan(ipv6,vlan)"}, 1500},
	{"mpls", "MPLS with 1, 2 and 3 labels", []string{"mpls", "mpls(labels=2)", "mpls(labels=3)"}, 1500},
	{"pppoe", "PPPoE, alone and carrying GRE, WireGuard or IPsec", []string{"pppoe", "pppoe/gre", "pppoe/wireguard", "pppoe/esp"}, 1500},
	{"gtpu", "GTP-U 4G and 5G (PDU session container), over IPv4 and IPv6", []string{"gtpu", "gtpu(5g)", "gtpu(ipv6)", "gtpu(5g,ipv6)"}, 1500},
	{"wireguard", "WireGuard over IPv4 and IPv6", []string{"wireguard", "wireguard(ipv6)"}, 1500},
}

// TunnelNames lists the tunnel families, then "mix" (all of them pooled,
// each family with equal weight).
func TunnelNames() []string {
	var n []string
	for _, t := range Tunnels {
		n = append(n, t.Name)
	}
	return append(n, "mix")
}

// TunnelDist is the path MTU distribution of the named tunnel family.
func TunnelDist(name string) (Dist, error) {
	if name == "mix" {
		var d Dist
		for _, t := range Tunnels {
			td, err := t.Dist()
			if err != nil {
				return nil, err
			}
			for _, p := range td {
				d = append(d, Point{p.PMTU, p.P / float64(len(Tunnels))})
			}
		}
		return d.normalize()
	}
	for _, t := range Tunnels {
		if t.Name == name {
			return t.Dist()
		}
	}
	return nil, fmt.Errorf("unknown tunnel %q (known: %v)", name, TunnelNames())
}

// Dist is the family's path MTU distribution.
func (t Tunnel) Dist() (Dist, error) {
	var d Dist
	for _, spec := range t.Stacks {
		st, err := encap.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		m, err := st.TunnelMTU(t.LinkMTU)
		if err != nil {
			return nil, fmt.Errorf("tunnel %s: %s: %w", t.Name, spec, err)
		}
		d = append(d, Point{m, 1})
	}
	return d.normalize()
}

// TunnelStacks maps each tunnel MTU of a family to the stacks that give it,
// for reports.
func (t Tunnel) TunnelStacks() map[int][]string {
	out := map[int][]string{}
	for _, spec := range t.Stacks {
		if m, err := encap.MustParse(spec).TunnelMTU(t.LinkMTU); err == nil {
			out[m] = append(out[m], spec)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}
