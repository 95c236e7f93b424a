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

// vendor is one platform calc writes configuration for. Adding a platform
// is one row in vendors and one case in TestVendorLines.
type vendor struct {
	key, title string
	render     func(c clampInput) (lines []string, note string)
}

// vendors, in the order they are shown.
var vendors = []vendor{
	{"linux-iptables", "Linux (iproute2 + iptables)", linuxIptables},
	{"linux-nftables", "Linux (nftables)", linuxNftables},
	{"cisco-ios", "Cisco IOS / IOS-XE", ciscoIOS},
	{"cisco-asa", "Cisco ASA", ciscoASA},
	{"juniper-srx", "Juniper SRX (Junos)", juniperSRX},
	{"palo-alto", "Palo Alto Networks (PAN-OS)", paloAlto},
	{"mikrotik", "MikroTik RouterOS", mikrotik},
	{"vyos", "VyOS", vyos},
}

// Vendors are the vendor keys, in the order they are shown.
var Vendors = func() []string {
	keys := make([]string, len(vendors))
	for i, v := range vendors {
		keys[i] = v.key
	}
	return keys
}()

// clampInput is what every vendor renders from: the numbers of the report
// and the interface names of the options.
type clampInput struct {
	st     *encap.Stack
	link   int // link MTU
	tunnel int // tunnel MTU
	m4, m6 int // MSS per family; m6 is 0 below 1280
	v6     bool
	ifn    string // tunnel interface name (Linux lines)
	ifnROS string // the same interface on RouterOS
	ifnVy  string // the same interface when VyOS names it (VyOS tunnels are tunN)
	phys   string // physical interface name
}

// noV6 is the note's tail when no IPv6 lines are printed.
func (c clampInput) noV6() string {
	if c.v6 {
		return ""
	}
	return " No IPv6 lines: the tunnel MTU is below 1280."
}

func vendorConfigs(st *encap.Stack, r *Report, opts Options, names ifNames) []VendorConfig {
	c := clampInput{st: st, link: r.LinkMTU, tunnel: r.TunnelMTU, m4: r.MSS.IPv4, m6: r.MSS.IPv6,
		v6: r.MSS.IPv6 > 0, ifn: names.linux, ifnROS: names.routerOS, ifnVy: names.vyos, phys: opts.Physical}
	out := make([]VendorConfig, 0, len(vendors))
	for _, v := range vendors {
		lines, note := v.render(c)
		out = append(out, VendorConfig{Vendor: v.key, Title: v.title, Lines: lines, Note: note})
	}
	return out
}

// linuxIptables clamps both directions, because the SYN-ACK coming back
// through the tunnel tells the local host what the far side can take.
func linuxIptables(c clampInput) ([]string, string) {
	lines := []string{fmt.Sprintf("ip link set dev %s mtu %d", c.ifn, c.tunnel)}
	for _, dir := range []string{"-o", "-i"} {
		lines = append(lines, fmt.Sprintf("iptables -t mangle -A FORWARD %s %s -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss %d:65535 -j TCPMSS --set-mss %d", dir, c.ifn, c.m4+1, c.m4))
	}
	if c.v6 {
		for _, dir := range []string{"-o", "-i"} {
			lines = append(lines, fmt.Sprintf("ip6tables -t mangle -A FORWARD %s %s -p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss %d:65535 -j TCPMSS --set-mss %d", dir, c.ifn, c.m6+1, c.m6))
		}
	}
	return lines, "TCPMSS never raises an MSS (Linux 2.6.25+); the tcpmss match keeps the rule off SYNs without an MSS option, into which TCPMSS would insert one. --clamp-mss-to-pmtu derives the value from the route MTU (MTU-40 / MTU-60) once the interface MTU is right." + c.noV6()
}

func linuxNftables(c clampInput) ([]string, string) {
	lines := []string{
		fmt.Sprintf("ip link set dev %s mtu %d", c.ifn, c.tunnel),
		"nft -f - <<'EOF'",
		"table inet mtukit_clamp {",
		"  chain forward {",
		"    type filter hook forward priority mangle; policy accept;",
	}
	for _, dir := range []string{"oifname", "iifname"} {
		lines = append(lines, fmt.Sprintf("    %s %q meta nfproto ipv4 tcp flags & (syn|rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d", dir, c.ifn, c.m4, c.m4))
		if c.v6 {
			lines = append(lines, fmt.Sprintf("    %s %q meta nfproto ipv6 tcp flags & (syn|rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d", dir, c.ifn, c.m6, c.m6))
		}
	}
	lines = append(lines, "  }", "}", "EOF")
	return lines, "'tcp option maxseg size set rt mtu' clamps to the route MTU instead." + c.noV6()
}

// Cisco IOS / IOS-XE accepted ranges (interface configuration): a value
// outside is rejected, so it is not printed.
const (
	iosMSS4Min, iosMSS4Max = 500, 1460
	iosMSS6Min, iosMSS6Max = 40, 1440
)

func ciscoIOS(c clampInput) ([]string, string) {
	m4, m6 := c.m4, c.m6
	lines := []string{"interface " + ciscoIf(c.st), fmt.Sprintf(" ip mtu %d", c.tunnel)}
	note := "adjust-mss applies to SYNs in both directions through the interface."
	if m4 >= iosMSS4Min && m4 <= iosMSS4Max {
		lines = append(lines, fmt.Sprintf(" ip tcp adjust-mss %d", m4))
	} else {
		note += fmt.Sprintf(" No ip tcp adjust-mss line: IOS accepts %d-%d and the MSS here is %d", iosMSS4Min, iosMSS4Max, m4)
		if m4 > iosMSS4Max {
			note += " (hosts on 1500-byte links advertise 1460, which fits; hosts with larger MTUs depend on PMTUD)."
		} else {
			note += ": give the link a larger MTU."
		}
	}
	if c.v6 {
		lines = append(lines, fmt.Sprintf(" ipv6 mtu %d", c.tunnel))
		if m6 >= iosMSS6Min && m6 <= iosMSS6Max {
			lines = append(lines, fmt.Sprintf(" ipv6 tcp adjust-mss %d", m6))
		} else {
			note += fmt.Sprintf(" No ipv6 tcp adjust-mss line: IOS accepts %d-%d and the IPv6 MSS here is %d.", iosMSS6Min, iosMSS6Max, m6)
		}
	}
	return lines, note + c.noV6()
}

func ciscoIf(st *encap.Stack) string {
	if innermostTunnel(st) != nil {
		return "Tunnel0"
	}
	if hasTrait(st, encap.PPPSession) {
		return "Dialer1"
	}
	return "GigabitEthernet0/0"
}

func ciscoASA(c clampInput) ([]string, string) {
	return []string{fmt.Sprintf("mtu outside %d", c.link), fmt.Sprintf("sysopt connection tcpmss %d", c.m4)},
		"ASA clamps globally; the MTU is per interface (here the outside one)."
}

// juniperSRX puts the tunnel MTU on the interface of the innermost layer:
// with GRE over IPsec that is gr-0/0/0, and st0 carries the bigger GRE
// packets.
func juniperSRX(c clampInput) ([]string, string) {
	m4, m6 := c.m4, c.m6
	jif := juniperIf(c.st)
	lines := []string{fmt.Sprintf("set interfaces %s unit 0 family inet mtu %d", jif, c.tunnel)}
	if c.v6 {
		lines = append(lines, fmt.Sprintf("set interfaces %s unit 0 family inet6 mtu %d", jif, c.tunnel))
	}
	gre := fmt.Sprintf("set security flow tcp-mss gre-in mss %d", m4)
	greOut := fmt.Sprintf("set security flow tcp-mss gre-out mss %d", m4)
	ipsec := fmt.Sprintf("set security flow tcp-mss ipsec-vpn mss %d", m4)
	switch {
	case greOverIPsec(c.st):
		// Junos: TCP MSS may not be applied to GRE over IPsec unless gre-in
		// and gre-out are set as well as ipsec-vpn.
		lines = append(lines, gre, greOut, ipsec)
	case hasKind(c.st, encap.KindIPsec):
		lines = append(lines, ipsec)
	case hasTrait(c.st, encap.GRETunnel):
		lines = append(lines, gre, greOut)
	default:
		lines = append(lines, fmt.Sprintf("set security flow tcp-mss all-tcp mss %d", m4))
	}
	note := "SRX's tcp-mss is one absolute MSS per traffic type, not per family"
	if c.v6 {
		note += fmt.Sprintf(": %d is the IPv4 value; if IPv6 TCP crosses the same tunnel, use %d, which fits both.", m4, m6)
	} else {
		note += "."
	}
	return lines, note
}

// greOverIPsec reports a GRE tunnel carried inside an IPsec layer (wire
// order: IPsec first), the case Junos calls GREoIPsec.
func greOverIPsec(st *encap.Stack) bool {
	ipsec := false
	for _, l := range st.Layers {
		switch {
		case l.Kind == encap.KindIPsec:
			ipsec = true
		case ipsec && l.Has(encap.GRETunnel):
			return true
		}
	}
	return false
}

// juniperIf is the Junos interface of the innermost layer, which carries
// inner packets of the tunnel MTU.
func juniperIf(st *encap.Stack) string {
	l := innermostTunnel(st)
	switch {
	case l == nil && hasTrait(st, encap.PPPSession):
		return "pp0"
	case l == nil:
		return "ge-0/0/0"
	case l.Kind == encap.KindIPsec:
		return "st0"
	case l.Has(encap.GRETunnel):
		return "gr-0/0/0"
	}
	return "ip-0/0/0"
}

// paloAlto configures an adjustment, subtracted from the MTU of the
// interface it is set on (here the physical one, MTU = link MTU).
func paloAlto(c clampInput) ([]string, string) {
	adj4, adj6 := c.link-c.m4, c.link-c.m6
	pif := paIf(c.phys)
	lines := []string{fmt.Sprintf("set network interface tunnel units tunnel.1 mtu %d", c.tunnel),
		fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss enable yes", pif),
		fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss ipv4-mss-adjustment %d", pif, adj4)}
	note := fmt.Sprintf("PAN-OS takes an adjustment, not an MSS: MSS = interface MTU (%d) - adjustment, so %d gives %d.", c.link, adj4, c.m4)
	if c.v6 {
		lines = append(lines, fmt.Sprintf("set network interface ethernet %s layer3 adjust-tcp-mss ipv6-mss-adjustment %d", pif, adj6))
	}
	if adj4 < 40 || adj4 > 300 || (c.v6 && (adj6 < 60 || adj6 > 300)) {
		note += " The adjustment is outside PAN-OS's range (40-300 IPv4, 60-300 IPv6): set the physical interface MTU so that it fits."
	}
	return lines, note
}

func paIf(phys string) string {
	if strings.HasPrefix(phys, "ethernet") {
		return phys
	}
	return "ethernet1/1"
}

func mikrotik(c clampInput) ([]string, string) {
	lines := []string{fmt.Sprintf("/interface set [find name=%s] mtu=%d", c.ifnROS, c.tunnel)}
	for _, dir := range []string{"out-interface", "in-interface"} {
		lines = append(lines, fmt.Sprintf("/ip firewall mangle add chain=forward protocol=tcp tcp-flags=syn tcp-mss=%d-65535 %s=%s action=change-mss new-mss=%d passthrough=yes", c.m4+1, dir, c.ifnROS, c.m4))
		if c.v6 {
			lines = append(lines, fmt.Sprintf("/ipv6 firewall mangle add chain=forward protocol=tcp tcp-flags=syn tcp-mss=%d-65535 %s=%s action=change-mss new-mss=%d passthrough=yes", c.m6+1, dir, c.ifnROS, c.m6))
		}
	}
	return lines, "The tcp-mss range match makes the rule only lower the MSS; without it RouterOS would raise small ones."
}

// VyOS's adjust-mss validator (interface-definitions adjust-mss.xml.i):
// 536-65535 for ip and ipv6. Where adjust-mss-direction exists, it clamps
// outbound SYNs by default.
const vyosMSSMin = 536

func vyos(c clampInput) ([]string, string) {
	vt, vn := vyosIf(c.st, c.ifnVy)
	lines := []string{fmt.Sprintf("set interfaces %s %s mtu %d", vt, vn, c.tunnel)}
	note := "adjust-mss also accepts 'clamp-mss-to-pmtu'. It rewrites SYNs leaving the interface (adjust-mss-direction defaults to outbound): clamp the far end too, or set adjust-mss-direction both where your VyOS has it."
	if c.m4 >= vyosMSSMin {
		lines = append(lines, fmt.Sprintf("set interfaces %s %s ip adjust-mss %d", vt, vn, c.m4))
	} else {
		note += fmt.Sprintf(" No ip adjust-mss line: VyOS accepts %d-65535 and the MSS here is %d.", vyosMSSMin, c.m4)
	}
	if c.v6 && c.m6 >= vyosMSSMin {
		lines = append(lines, fmt.Sprintf("set interfaces %s %s ipv6 adjust-mss %d", vt, vn, c.m6))
	}
	if l := innermostTunnel(c.st); l != nil && vt == "tunnel" && !vyosTunnel[l.Name] {
		note += fmt.Sprintf(" VyOS has no %s interface: put these values on the interface that carries it.", l.Name)
	}
	return lines, note + c.noV6()
}

// vyosIfs maps a layer to the VyOS interface type that terminates it and
// that type's first interface name: VyOS's own list of interface types,
// keyed by the layer that each one carries. An empty name means the
// interface name from the options.
var vyosIfs = map[string][2]string{
	"wireguard": {"wireguard", "wg0"},
	"vxlan":     {"vxlan", "vxlan0"},
	"openvpn":   {"openvpn", "vtun0"},
	"pppoe":     {"pppoe", "pppoe0"},
	"esp":       {"vti", "vti0"},
	"ah":        {"vti", "vti0"},
	"l2tpv3":    {"l2tpv3", "l2tpeth0"},
	"geneve":    {"geneve", "gnv0"},
	"macsec":    {"macsec", "macsec0"},
	// "interfaces tunnel" encapsulation gre, gretap, ip6gre, ip6gretap,
	// ipip, sit, ipip6/ip6ip6.
	"gre": {"tunnel", ""}, "ip6gre": {"tunnel", ""}, "gretap": {"tunnel", ""}, "ip6gretap": {"tunnel", ""},
	"ipip": {"tunnel", ""}, "sit": {"tunnel", ""}, "ip6tnl": {"tunnel", ""},
}

// vyosTunnel reports the layers a VyOS "interfaces tunnel" can be.
var vyosTunnel = func() map[string]bool {
	m := map[string]bool{}
	for layer, it := range vyosIfs {
		if it[0] == "tunnel" {
			m[layer] = true
		}
	}
	return m
}()

// vyosIf picks the VyOS interface type and name for the innermost layer
// VyOS has an interface for.
func vyosIf(st *encap.Stack, name string) (string, string) {
	for i := len(st.Layers) - 1; i >= 0; i-- {
		if it, ok := vyosIfs[st.Layers[i].Name]; ok {
			if it[1] == "" {
				return it[0], name
			}
			return it[0], it[1]
		}
	}
	if innermostTunnel(st) == nil { // VLAN tags, MPLS: the link itself
		return "ethernet", "eth0"
	}
	return "tunnel", name
}

// innermostTunnel is the innermost layer that has an interface of its own
// (anything but link framing), or nil for a stack of framing only.
func innermostTunnel(st *encap.Stack) *encap.Layer {
	for i := len(st.Layers) - 1; i >= 0; i-- {
		if st.Layers[i].Has(encap.Interface) {
			return &st.Layers[i]
		}
	}
	return nil
}

func hasKind(st *encap.Stack, k encap.Kind) bool {
	for _, l := range st.Layers {
		if l.Kind == k {
			return true
		}
	}
	return false
}

func hasTrait(st *encap.Stack, t encap.Traits) bool {
	for i := range st.Layers {
		if st.Layers[i].Has(t) {
			return true
		}
	}
	return false
}

// ifNames is the tunnel interface's name on each platform family.
type ifNames struct{ linux, routerOS, vyos string }

// defaultIfs names the interface of a layer when the options name none:
// the first name Linux gives a device of that type (iproute2's gre0, tunl0,
// sit0, ip6tnl0 and gretap0 are the kernel's fallback devices, so the first
// one a user makes is ...1; wg-quick and pppd start at 0), and RouterOS's
// default name for the same interface. Layers not here get tun0.
var defaultIfs = map[string]ifNames{
	"wireguard": {"wg0", "wireguard1", ""},
	"gre":       {"gre1", "gre-tunnel1", ""},
	"ip6gre":    {"ip6gre1", "gre6-tunnel1", ""},
	"gretap":    {"gretap1", "gretap1", ""},
	"ip6gretap": {"ip6gretap1", "ip6gretap1", ""},
	"eoip":      {"eoip1", "eoip-tunnel1", ""},
	"ipip":      {"ipip1", "ipip-tunnel1", ""},
	"sit":       {"sit1", "6to4-tunnel1", ""},
	"ip6tnl":    {"ip6tnl1", "ipipv6-tunnel1", ""},
	"vxlan":     {"vxlan0", "vxlan1", ""},
	"vxlan-gpe": {"vxlan0", "vxlan1", ""},
	"geneve":    {"geneve0", "geneve0", ""},
	"gtpu":      {"gtp0", "gtp0", ""},
	"l2tpv2":    {"ppp0", "l2tp-out1", ""},
	"l2tpv3":    {"l2tpeth0", "l2tpeth0", ""},
	"openvpn":   {"tun0", "ovpn-out1", ""},
	"esp":       {"ipsec0", "ipsec0", ""},
	"ah":        {"ipsec0", "ipsec0", ""},
}

// defaultIfNames picks the interface names for a stack whose options name
// none: those of the innermost layer with an interface, ppp0 for a PPPoE
// session, the physical interface for bare framing. VyOS's tunnels must be
// tunN, so VyOS keeps tun0 (its own interface types name themselves, see
// vyosIfs).
func defaultIfNames(st *encap.Stack, phys string) ifNames {
	n := ifNames{"tun0", "tun0", "tun0"}
	switch l := innermostTunnel(st); {
	case l != nil:
		if d, ok := defaultIfs[l.Name]; ok {
			n.linux, n.routerOS = d.linux, d.routerOS
		}
	case hasTrait(st, encap.PPPSession):
		n.linux, n.routerOS = "ppp0", "pppoe-out1"
	default: // the link itself
		n.linux, n.routerOS = phys, phys
	}
	return n
}
