package advise

import (
	"fmt"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// VendorConfig is ready-to-paste configuration for one platform.
type VendorConfig struct {
	Vendor string   `json:"vendor"`
	Title  string   `json:"title"`
	Lines  []string `json:"lines"`
	Note   string   `json:"note,omitempty"`
}

// Vendor keys, in the order they are shown.
var Vendors = []string{"linux-iptables", "linux-nftables", "cisco-ios", "cisco-asa", "juniper-srx", "palo-alto", "mikrotik", "vyos"}

func vendorConfigs(st *encap.Stack, r *Report, opts Options) []VendorConfig {
	t, m4, m6 := r.TunnelMTU, r.MSS.IPv4, r.MSS.IPv6
	ifn, phys := opts.Interface, opts.Physical
	v6 := m6 > 0
	var out []VendorConfig
	add := func(vendor, title, note string, lines ...string) {
		out = append(out, VendorConfig{Vendor: vendor, Title: title, Lines: lines, Note: note})
	}
	noV6 := ""
	if !v6 {
		noV6 = " No IPv6 lines: the tunnel MTU is below 1280."
	}

	// Linux: both directions, because the SYN-ACK coming back through the
	// tunnel tells the local host what the far side can take.
	ipt := []string{fmt.Sprintf("ip link set dev %s mtu %d", ifn, t)}
	for _, dir := range []string{"-o", "-i"} {
		ipt = append(ipt, fmt.Sprintf("iptables -t mangle -A FORWARD %s %s -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss %d:65535 -j TCPMSS --set-mss %d", dir, ifn, m4+1, m4))
	}
	if v6 {
		for _, dir := range []string{"-o", "-i"} {
			ipt = append(ipt, fmt.Sprintf("ip6tables -t mangle -A FORWARD %s %s -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss %d:65535 -j TCPMSS --set-mss %d", dir, ifn, m6+1, m6))
		}
	}
	add("linux-iptables", "Linux (iproute2 + iptables)", "TCPMSS never raises an MSS (Linux 2.6.25+); the tcpmss match keeps the rule off SYNs without an MSS option, into which TCPMSS would insert one. --clamp-mss-to-pmtu derives the value from the route MTU (MTU-40 / MTU-60) once the interface MTU is right."+noV6, ipt...)

	nft := []string{
		fmt.Sprintf("ip link set dev %s mtu %d", ifn, t),
		"nft -f - <<'EOF'",
		"table inet mtukit_clamp {",
		"  chain forward {",
		"    type filter hook forward priority mangle; policy accept;",
	}
	for _, dir := range []string{"oifname", "iifname"} {
		nft = append(nft, fmt.Sprintf("    %s %q meta nfproto ipv4 tcp flags & (syn|rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d", dir, ifn, m4, m4))
		if v6 {
			nft = append(nft, fmt.Sprintf("    %s %q meta nfproto ipv6 tcp flags & (syn|rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d", dir, ifn, m6, m6))
		}
	}
	nft = append(nft, "  }", "}", "EOF")
	add("linux-nftables", "Linux (nftables)", "'tcp option maxseg size set rt mtu' clamps to the route MTU instead."+noV6, nft...)

	// IOS and IOS-XE accept ip tcp adjust-mss 500..1460 and ipv6 tcp
	// adjust-mss 40..1440; a value outside is rejected, so it is not printed.
	ios := []string{"interface " + ciscoIf(st), fmt.Sprintf(" ip mtu %d", t)}
	iosNote := "adjust-mss applies to SYNs in both directions through the interface."
	if m4 >= iosMSS4Min && m4 <= iosMSS4Max {
		ios = append(ios, fmt.Sprintf(" ip tcp adjust-mss %d", m4))
	} else {
		iosNote += fmt.Sprintf(" No ip tcp adjust-mss line: IOS accepts %d-%d and the MSS here is %d", iosMSS4Min, iosMSS4Max, m4)
		if m4 > iosMSS4Max {
			iosNote += " (hosts on 1500-byte links advertise 1460, which fits; hosts with larger MTUs depend on PMTUD)."
		} else {
			iosNote += ": give the link a larger MTU."
		}
	}
	if v6 {
		ios = append(ios, fmt.Sprintf(" ipv6 mtu %d", t))
		if m6 >= iosMSS6Min && m6 <= iosMSS6Max {
			ios = append(ios, fmt.Sprintf(" ipv6 tcp adjust-mss %d", m6))
		} else {
			iosNote += fmt.Sprintf(" No ipv6 tcp adjust-mss line: IOS accepts %d-%d and the IPv6 MSS here is %d.", iosMSS6Min, iosMSS6Max, m6)
		}
	}
	add("cisco-ios", "Cisco IOS / IOS-XE", iosNote+noV6, ios...)

	add("cisco-asa", "Cisco ASA", "ASA clamps globally; the MTU is per interface (here the outside one).",
		fmt.Sprintf("mtu outside %d", r.LinkMTU), fmt.Sprintf("sysopt connection tcpmss %d", m4))

	// The tunnel MTU belongs on the interface of the innermost layer: with
	// GRE over IPsec that is gr-0/0/0, and st0 carries the bigger GRE
	// packets.
	jif := juniperIf(st)
	srx := []string{fmt.Sprintf("set interfaces %s unit 0 family inet mtu %d", jif, t)}
	if v6 {
		srx = append(srx, fmt.Sprintf("set interfaces %s unit 0 family inet6 mtu %d", jif, t))
	}
	greNames := []string{"gre", "ip6gre", "gretap", "ip6gretap"}
	switch {
	case greOverIPsec(st):
		// Junos: TCP MSS may not be applied to GRE over IPsec unless gre-in
		// and gre-out are set as well as ipsec-vpn.
		srx = append(srx, fmt.Sprintf("set security flow tcp-mss gre-in mss %d", m4), fmt.Sprintf("set security flow tcp-mss gre-out mss %d", m4),
			fmt.Sprintf("set security flow tcp-mss ipsec-vpn mss %d", m4))
	case hasKind(st, encap.KindIPsec):
		srx = append(srx, fmt.Sprintf("set security flow tcp-mss ipsec-vpn mss %d", m4))
	case hasName(st, greNames...):
		srx = append(srx, fmt.Sprintf("set security flow tcp-mss gre-in mss %d", m4), fmt.Sprintf("set security flow tcp-mss gre-out mss %d", m4))
	default:
		srx = append(srx, fmt.Sprintf("set security flow tcp-mss all-tcp mss %d", m4))
	}
	srxNote := "SRX's tcp-mss is one absolute MSS per traffic type, not per family"
	if v6 {
		srxNote += fmt.Sprintf(": %d is the IPv4 value; if IPv6 TCP crosses the same tunnel, use %d, which fits both.", m4, m6)
	} else {
		srxNote += "."
	}
	add("juniper-srx", "Juniper SRX (Junos)", srxNote, srx...)

	// Palo Alto configures an adjustment, subtracted from the MTU of the
	// interface it is set on (here the physical one, MTU = link MTU).
	adj4, adj6 := r.LinkMTU-m4, r.LinkMTU-m6
	pa := []string{fmt.Sprintf("set network interface tunnel units tunnel.1 mtu %d", t),
		fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss enable yes", paIf(phys)),
		fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss ipv4-mss-adjustment %d", paIf(phys), adj4)}
	paNote := fmt.Sprintf("PAN-OS takes an adjustment, not an MSS: MSS = interface MTU (%d) - adjustment, so %d gives %d.", r.LinkMTU, adj4, m4)
	if v6 {
		pa = append(pa, fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss ipv6-mss-adjustment %d", paIf(phys), adj6))
	}
	if adj4 < 40 || adj4 > 300 || (v6 && (adj6 < 60 || adj6 > 300)) {
		paNote += " The adjustment is outside PAN-OS's range (40-300 IPv4, 60-300 IPv6): set the physical interface MTU so that it fits."
	}
	add("palo-alto", "Palo Alto Networks (PAN-OS)", paNote, pa...)

	mt := []string{fmt.Sprintf("/interface set [find name=%s] mtu=%d", ifn, t)}
	for _, dir := range []string{"out-interface", "in-interface"} {
		mt = append(mt, fmt.Sprintf("/ip firewall mangle add chain=forward protocol=tcp tcp-flags=syn tcp-mss=%d-65535 %s=%s action=change-mss new-mss=%d passthrough=yes", m4+1, dir, ifn, m4))
		if v6 {
			mt = append(mt, fmt.Sprintf("/ipv6 firewall mangle add chain=forward protocol=tcp tcp-flags=syn tcp-mss=%d-65535 %s=%s action=change-mss new-mss=%d passthrough=yes", m6+1, dir, ifn, m6))
		}
	}
	add("mikrotik", "MikroTik RouterOS", "The tcp-mss range match makes the rule only lower the MSS; without it RouterOS would raise small ones.", mt...)

	// VyOS validates adjust-mss (ip and ipv6) as 536-65535 and, where
	// adjust-mss-direction exists, clamps outbound SYNs by default.
	vt, vn := vyosIf(st, ifn)
	vy := []string{fmt.Sprintf("set interfaces %s %s mtu %d", vt, vn, t)}
	vyNote := "adjust-mss also accepts 'clamp-mss-to-pmtu'. It rewrites SYNs leaving the interface (adjust-mss-direction defaults to outbound): clamp the far end too, or set adjust-mss-direction both where your VyOS has it."
	if m4 >= vyosMSSMin {
		vy = append(vy, fmt.Sprintf("set interfaces %s %s ip adjust-mss %d", vt, vn, m4))
	} else {
		vyNote += fmt.Sprintf(" No ip adjust-mss line: VyOS accepts %d-65535 and the MSS here is %d.", vyosMSSMin, m4)
	}
	if v6 && m6 >= vyosMSSMin {
		vy = append(vy, fmt.Sprintf("set interfaces %s %s ipv6 adjust-mss %d", vt, vn, m6))
	}
	if l := innermostTunnel(st); l != nil && vt == "tunnel" && !vyosTunnel[l.Name] {
		vyNote += fmt.Sprintf(" VyOS has no %s interface: put these values on the interface that carries it.", l.Name)
	}
	add("vyos", "VyOS", vyNote+noV6, vy...)
	return out
}

// greOverIPsec reports a GRE layer carried inside an IPsec layer (wire
// order: IPsec first), the case Junos calls GREoIPsec.
func greOverIPsec(st *encap.Stack) bool {
	ipsec := false
	for _, l := range st.Layers {
		switch {
		case l.Kind == encap.KindIPsec:
			ipsec = true
		case ipsec && (l.Name == "gre" || l.Name == "ip6gre" || l.Name == "gretap" || l.Name == "ip6gretap"):
			return true
		}
	}
	return false
}

func hasKind(st *encap.Stack, k encap.Kind) bool {
	for _, l := range st.Layers {
		if l.Kind == k {
			return true
		}
	}
	return false
}

func hasName(st *encap.Stack, names ...string) bool {
	for _, l := range st.Layers {
		for _, n := range names {
			if l.Name == n {
				return true
			}
		}
	}
	return false
}

// VyOS's adjust-mss validator (interface-definitions adjust-mss.xml.i).
const vyosMSSMin = 536

// Cisco IOS / IOS-XE accepted ranges (interface configuration).
const (
	iosMSS4Min, iosMSS4Max = 500, 1460
	iosMSS6Min, iosMSS6Max = 40, 1440
)

// innermostTunnel is the innermost layer that has an interface of its own
// (anything but link framing), or nil for a stack of framing only.
func innermostTunnel(st *encap.Stack) *encap.Layer {
	for i := len(st.Layers) - 1; i >= 0; i-- {
		if st.Layers[i].Kind != encap.KindLink {
			return &st.Layers[i]
		}
	}
	return nil
}

func ciscoIf(st *encap.Stack) string {
	if innermostTunnel(st) != nil {
		return "Tunnel0"
	}
	if hasName(st, "pppoe") {
		return "Dialer1"
	}
	return "GigabitEthernet0/0"
}

// juniperIf is the Junos interface of the innermost layer, which carries
// inner packets of the tunnel MTU.
func juniperIf(st *encap.Stack) string {
	l := innermostTunnel(st)
	switch {
	case l == nil && hasName(st, "pppoe"):
		return "pp0"
	case l == nil:
		return "ge-0/0/0"
	case l.Kind == encap.KindIPsec:
		return "st0"
	case l.Name == "gre" || l.Name == "ip6gre" || l.Name == "gretap" || l.Name == "ip6gretap":
		return "gr-0/0/0"
	}
	return "ip-0/0/0"
}

func paIf(phys string) string {
	if strings.HasPrefix(phys, "ethernet") {
		return phys
	}
	return "ethernet1/1"
}

// vyosTunnel lists the layers a VyOS "interfaces tunnel" can be (its
// encapsulation gre, gretap, ip6gre, ip6gretap, ipip, sit, ipip6/ip6ip6).
var vyosTunnel = map[string]bool{"gre": true, "ip6gre": true, "gretap": true, "ip6gretap": true, "ipip": true, "sit": true, "ip6tnl": true}

// vyosIf picks the VyOS interface type for the innermost tunnel layer.
func vyosIf(st *encap.Stack, name string) (string, string) {
	for i := len(st.Layers) - 1; i >= 0; i-- {
		switch st.Layers[i].Name {
		case "wireguard":
			return "wireguard", "wg0"
		case "vxlan":
			return "vxlan", "vxlan0"
		case "openvpn":
			return "openvpn", "vtun0"
		case "pppoe":
			return "pppoe", "pppoe0"
		case "esp", "ah":
			return "vti", "vti0"
		case "l2tpv3":
			return "l2tpv3", "l2tpeth0"
		case "geneve":
			return "geneve", "gnv0"
		case "macsec":
			return "macsec", "macsec0"
		case "gre", "ip6gre", "gretap", "ip6gretap", "ipip", "sit", "ip6tnl":
			return "tunnel", name
		}
	}
	if innermostTunnel(st) == nil { // VLAN tags, MPLS: the link itself
		return "ethernet", "eth0"
	}
	return "tunnel", name
}
