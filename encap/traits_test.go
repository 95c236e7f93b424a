package encap

import "testing"

// TestTraits pins every catalog layer's traits. A new layer must add its row:
// the test fails for a catalog name it does not list.
func TestTraits(t *testing.T) {
	const tun = Interface | OwnOuterIP
	const l2 = tun | CarriesEthernet
	want := map[string]Traits{
		"eth":            EthernetFraming, // only an Ethernet-carrying tunnel can hold it
		"eth(vlan)":      EthernetFraming,
		"dot1q":          0,
		"qinq":           0,
		"pppoe":          PPPSession,
		"mpls":           0,
		"macsec":         0, // removed at every hop: not Protects
		"ipv4":           Interface,
		"ipv6":           Interface,
		"udp":            Interface,
		"xlat":           Interface, // replaces the packet's own header: no outer one
		"xlat(frag)":     Interface,
		"ipip":           tun,
		"sit":            tun,
		"ip6tnl":         tun,
		"srv6":           tun,
		"gre":            tun | GRETunnel,
		"gre(ipv6,key)":  tun | GRETunnel,
		"ip6gre":         tun | GRETunnel,
		"gretap":         tun | GRETunnel | CarriesEthernet,
		"ip6gretap":      tun | GRETunnel | CarriesEthernet,
		"nvgre":          l2, // GRE framing, not a GRE tunnel interface
		"eoip":           l2,
		"vxlan":          l2,
		"vxlan-gpe":      tun,
		"vxlan-gpe(eth)": l2,
		"l2tpv3(eth)":    l2,
		"openvpn(tap)":   l2 | Protects,
		"geneve":         l2,
		"geneve(ip)":     tun, // IP payload: no inner Ethernet
		"gtpu":           tun,
		"lisp":           tun,
		"l2tpv2":         tun,
		"l2tpv3":         tun,
		"wireguard":      tun | Protects,
		"wg(ipv6)":       tun | Protects,
		"openvpn":        tun | Protects,
		"openvpn(tcp)":   tun | Protects,
		"esp":            tun | Protects,
		"esp(nat-t)":     tun | Protects,
		"esp(transport)": Interface | Protects, // no outer header of its own
		"ah":             tun | Protects,
		"ah(transport)":  Interface | Protects,
	}
	for _, d := range Catalog() {
		if _, ok := want[d.Name]; !ok {
			t.Errorf("layer %q has no row in TestTraits: add its traits", d.Name)
		}
	}
	for spec, w := range want {
		t.Run(spec, func(t *testing.T) {
			st, err := Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Layers[0].Traits; got != w {
				t.Errorf("traits %q, want %q", got, w)
			}
		})
	}
}

func TestTraitsHas(t *testing.T) {
	l := MustParse("gre").Layers[0]
	if !l.Has(OwnOuterIP|GRETunnel) || l.Has(GRETunnel|Protects) {
		t.Errorf("Has on %q is wrong", l.Traits)
	}
	if got := (OwnOuterIP | Protects).String(); got != "own-outer-ip,protects" {
		t.Errorf("String = %q", got)
	}
}
