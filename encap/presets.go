package encap

import (
	"fmt"
	"strings"
)

// Preset is a setup people run, by name: a stack on a link, with the figure
// its vendor (or standard) publishes and where. A test solves every preset
// and compares mtukit's number with the published one; where they differ,
// Note says why (the vendor rounds, or keeps a safety margin).
type Preset struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Stack   string `json:"stack"`
	LinkMTU int    `json:"link_mtu"`
	// Family is the inner family the figure is for: "ipv4" or "ipv6".
	Family    string    `json:"family"`
	Published Published `json:"published"`
	Source    Source    `json:"source"`
	Note      string    `json:"note,omitempty"`
}

// Published is the vendor's own figure for a preset.
type Published struct {
	// Quantity is what the figure measures: "tunnel_mtu" (largest inner
	// packet), "mss_ipv4" or "mss_ipv6" (the clamp, RFC 6691).
	Quantity string `json:"quantity"`
	Value    int    `json:"value"`
	// Says is how the source states it, in our words.
	Says string `json:"says"`
}

// Source is where a published figure comes from.
type Source struct {
	URL   string `json:"url"`
	Title string `json:"title"`
}

// Published quantities.
const (
	QuantityTunnelMTU = "tunnel_mtu"
	QuantityMSSIPv4   = "mss_ipv4"
	QuantityMSSIPv6   = "mss_ipv6"
)

// presets is the table. Every figure was read in its source; a setup whose
// vendor publishes no figure is not here.
var presets = []Preset{
	{
		Name: "cloudflare-magic-wan-gre", Title: "Cloudflare Magic WAN / Magic Transit, GRE tunnel",
		Stack: "gre", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityMSSIPv4, 1436, "MSS 1436: 1500 - 20 (IP) - 20 (TCP) - 20 (new IP header) - 4 (GRE); tunnel MTU 1476"},
		Source:    Source{"https://developers.cloudflare.com/magic-wan/reference/mtu-mss/", "Maximum transmission unit and maximum segment size · Cloudflare Magic WAN docs"},
	},
	{
		Name: "gcp-ha-vpn", Title: "Google Cloud HA VPN, AEAD cipher (AES-GCM), IPv4 gateway interface, no NAT-T",
		Stack: "esp(aes-gcm-16)", LinkMTU: 1460, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1406, "gateway MTU 1460; payload MTU 1406 bytes for AEAD ciphers on an IPv4 gateway interface (1386 on IPv6)"},
		Source:    Source{"https://cloud.google.com/network-connectivity/docs/vpn/concepts/mtu-considerations", "MTU considerations | Cloud VPN | Google Cloud"},
	},
	{
		Name: "aws-site-to-site-vpn", Title: "AWS Site-to-Site VPN, AES-GCM-16, no NAT traversal",
		Stack: "esp(aes-gcm-16)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1446, "tunnel MTU 1446 and MSS 1406 for AES-GCM-16 without NAT-T; other ciphers and NAT-T lower both (1406-1446)"},
		Source:    Source{"https://docs.aws.amazon.com/vpn/latest/s2svpn/cgw-best-practice.html", "Best practices for an AWS Site-to-Site VPN customer gateway device: Adjust MTU and MSS sizes according to the algorithms in use"},
	},
	{
		Name: "azure-vpn-gateway", Title: "Azure VPN Gateway (S2S IPsec; stack: AES-CBC + SHA-256 with NAT-T, a common policy)",
		Stack: "esp(aes-cbc,sha256,nat-t)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityMSSIPv4, 1350, "clamp TCP MSS at 1350 on the on-premises device, or set the tunnel interface MTU to 1400"},
		Source:    Source{"https://learn.microsoft.com/en-us/azure/vpn-gateway/vpn-gateway-about-vpn-devices#ipsec", "About VPN devices for Site-to-Site VPN Gateway connections - Azure VPN Gateway"},
		Note:      "a safety margin: one figure for every cipher, NAT-T or not, and an IPv6 underlay; with AES-CBC + SHA-256 and NAT-T the exact MSS is 1382 (AES-GCM without NAT-T: 1406), so 1350 leaves 32 bytes spare",
	},
	{
		Name: "lte-gtpu", Title: "LTE/5G user plane (GTP-U over IPv4, no extension headers)",
		Stack: "gtpu", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1358, "the recommended maximum link MTU for the UE is 1358 octets, to prevent fragmentation in the backbone network (see TS 23.060)"},
		Source:    Source{"https://www.3gpp.org/ftp/Specs/archive/24_series/24.301", "3GPP TS 24.301, Non-Access-Stratum (NAS) protocol for EPS; Stage 3, §6.6.4.2"},
		Note:      "a safety margin: GTP-U over IPv4 on a 1500-byte backbone fits 1464; 3GPP's 1358 (TS 23.060 Annex C) leaves room for the worst backbone, GTP-U over IPsec over IPv6",
	},
	{
		Name: "aws-gwlb-geneve", Title: "AWS Gateway Load Balancer to an appliance (GENEVE, three AWS options)",
		Stack: "geneve(ip,opts=32)", LinkMTU: 8568, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 8500, "GWLB supports an 8500-byte MTU; GENEVE encapsulation adds 68 bytes, so appliances must accept 8568-byte packets"},
		Source:    Source{"https://docs.aws.amazon.com/elasticloadbalancing/latest/gateway/gateway-load-balancers.html", "Gateway Load Balancers - Elastic Load Balancing"},
		Note:      "68 = outer IPv4 20 + UDP 8 + GENEVE 8 + 32 bytes of options (GWLB endpoint ID, attachment ID and flow cookie TLVs); GWLB carries the IP packet without an Ethernet header",
	},
	{
		Name: "wg-quick", Title: "wg-quick's default WireGuard MTU",
		Stack: "wireguard(ipv6)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1420, "wg-quick sets the interface MTU to the route's MTU (1500 when unknown) minus 80"},
		Source:    Source{"https://git.zx2c4.com/wireguard-tools/tree/src/wg-quick/linux.bash", "wireguard-tools: src/wg-quick/linux.bash (set_mtu_up)"},
		Note:      "the 80 bytes assume an IPv6 underlay; over IPv4 WireGuard takes 60 and 1440 fits (calc --stack wireguard)",
	},
	{
		Name: "tailscale", Title: "Tailscale (WireGuard) interface MTU",
		Stack: "wireguard(ipv6)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1280, "tailscale0 uses a fixed MTU of 1280 (tstun.DefaultTUNMTU)"},
		Source:    Source{"https://github.com/tailscale/tailscale/blob/main/net/tstun/mtu.go", "tailscale/tailscale: net/tstun/mtu.go"},
		Note:      "a safety margin, not overhead: WireGuard over IPv6 on a 1500-byte path fits 1420, but Tailscale picks 1280, the IPv6 minimum, so its packets fit any path (DERP relays, nested tunnels, mobile links) without PMTUD",
	},
	{
		Name: "pppoe", Title: "DSL PPPoE (RFC 2516)",
		Stack: "pppoe", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1492, "the PPP MRU must not be negotiated above 1492 (Ethernet 1500 - PPPoE 6 - PPP 2)"},
		Source:    Source{"https://www.rfc-editor.org/rfc/rfc2516#section-7", "RFC 2516: A Method for Transmitting PPP Over Ethernet (PPPoE), section 7"},
	},
	{
		Name: "pppoe-vlan", Title: "DSL PPPoE on a tagged VLAN (e.g. VLAN 7)",
		Stack: "dot1q/pppoe", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1492, "the PPP MRU must not be negotiated above 1492"},
		Source:    Source{"https://www.rfc-editor.org/rfc/rfc2516#section-7", "RFC 2516: A Method for Transmitting PPP Over Ethernet (PPPoE), section 7"},
		Note:      "the 802.1Q tag rides in the 1522-byte frame, outside the 1500-byte IP MTU, so the VLAN costs nothing (write dot1q(capped) if a hop caps frames at 1518)",
	},
	{
		Name: "pppoe-baby-jumbo", Title: "PPPoE with RFC 4638 baby jumbo frames (1508-byte Ethernet payload)",
		Stack: "pppoe", LinkMTU: 1508, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1500, "PPP-Max-Payload lets PPPoE carry a 1500-byte MRU when the Ethernet MTU is at least 1508"},
		Source:    Source{"https://www.rfc-editor.org/rfc/rfc4638", "RFC 4638: Accommodating a Maximum Transit Unit/Maximum Receive Unit (MTU/MRU) Greater Than 1492 in PPPoE"},
	},
	{
		Name: "linux-vxlan", Title: "Linux VXLAN device over IPv4 (VXLAN_HEADROOM)",
		Stack: "vxlan", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1450, "a vxlan device created on a 1500-byte lower device gets MTU 1500 - VXLAN_HEADROOM (20 + 8 + 8 + 14 = 50)"},
		Source:    Source{"https://github.com/torvalds/linux/blob/master/include/net/vxlan.h", "Linux include/net/vxlan.h (VXLAN_HEADROOM)"},
	},
	{
		Name: "openstack-vxlan-jumbo", Title: "OpenStack Neutron VXLAN network on a 9000-byte physical network (IPv4 endpoints)",
		Stack: "vxlan", LinkMTU: 9000, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 8950, "an underlying physical network with a 9000-byte MTU yields an 8950-byte MTU for instances using a VXLAN network with IPv4 endpoints (IPv6 endpoints add 20 bytes)"},
		Source:    Source{"https://docs.openstack.org/neutron/zed/admin/config-mtu.html", "MTU considerations - Neutron documentation (Jumbo frames)"},
	},
	{
		Name: "cisco-nexus1000v-vxlan", Title: "Cisco Nexus 1000V VXLAN: underlay MTU for 1500-byte VM vNICs",
		Stack: "vxlan", LinkMTU: 1550, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1500, "the VXLAN encapsulation overhead is 50 bytes; with the default 1500-byte vNIC, configure the uplinks, switch ports, inter-switch links and routers to carry an MTU of at least 1550 bytes (else make the guest MTU 50 bytes smaller)"},
		Source:    Source{"https://manualshive.com/en/manual/cisco/nexus-1000v/nexus-1000v_troubleshooting-manual_2608889-252.html", "Cisco Nexus 1000V Troubleshooting Guide, Release 5.2(1)SV3(1.1), chapter 25 VXLANs, Fragmentation (copy on manualshive.com)"},
	},
	{
		Name: "android-464xlat", Title: "Android 464XLAT CLAT (clatd) on a 1500-byte IPv6 network",
		Stack: "xlat(frag)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1472, "the v4- CLAT interface gets the detected IPv6 MTU minus MTU_DELTA 28: 40 bytes IPv6 header - 20 bytes IPv4 header + 8 bytes fragment header"},
		Source:    Source{"https://github.com/LineageOS/android_packages_modules_Connectivity/blob/050b6529c43c8c63187ca4584226a8a0fb27a656/service/src/com/android/server/connectivity/ClatCoordinator.java", "AOSP packages/modules/Connectivity: ClatCoordinator.java (MTU_DELTA, adjustMtu), LineageOS mirror"},
	},
	{
		Name: "openwrt-ds-lite", Title: "DS-Lite B4 on OpenWrt (IPv4-in-IPv6 softwire, RFC 6333), default tunnel MTU",
		Stack: "4in6(noencaplimit)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1280, "the dslite protocol sets up an ipip6 tunnel with mtu ${mtu:-1280}: 1280 unless the mtu option is set"},
		Source:    Source{"https://github.com/openwrt/openwrt/blob/main/package/network/ipv6/ds-lite/files/dslite.sh", "OpenWrt package/network/ipv6/ds-lite/files/dslite.sh (tnl_setup)"},
		Note:      "a safety margin: IPv4 in IPv6 on a 1500-byte IPv6 link fits 1460 (1452 if the tunnel adds the encapsulation limit option), but OpenWrt defaults to 1280 so the softwire needs no PMTUD whatever the IPv6 path; set the mtu option to 1460 on a known 1500-byte path",
	},
	{
		Name: "openwrt-map-e", Title: "MAP-E CE on OpenWrt (IPv4-in-IPv6, RFC 7597), default tunnel MTU",
		Stack: "4in6(noencaplimit)", LinkMTU: 1500, Family: "ipv4",
		Published: Published{QuantityTunnelMTU, 1280, "for map-e and lw4o6 the map protocol sets up an ipip6 tunnel with mtu ${mtu:-1280}: 1280 unless the mtu option is set"},
		Source:    Source{"https://github.com/openwrt/openwrt/blob/main/package/network/ipv6/map/files/map.sh", "OpenWrt package/network/ipv6/map/files/map.sh (proto_map_setup)"},
		Note:      "a safety margin: MAP-E is IPv4 in IPv6, which on a 1500-byte IPv6 link fits 1460 (1452 with the encapsulation limit option), but OpenWrt defaults to 1280, the IPv6 minimum; set the mtu option to 1460 on a known 1500-byte path",
	},
}

// Presets lists every preset, in table order.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	copy(out, presets)
	return out
}

// PresetNames lists the preset names, in table order.
func PresetNames() []string {
	out := make([]string, len(presets))
	for i, p := range presets {
		out[i] = p.Name
	}
	return out
}

// LookupPreset finds a preset by name (any case). An unknown name is an
// error naming the closest preset and listing them all.
func LookupPreset(name string) (Preset, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, p := range presets {
		if p.Name == n {
			return p, nil
		}
	}
	msg := fmt.Sprintf("unknown preset %q", name)
	if s := suggest(n, PresetNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return Preset{}, fmt.Errorf("%s: want one of %s", msg, strings.Join(PresetNames(), ", "))
}

// Computed is mtukit's own value of the preset's published quantity: the
// stack solved exactly on the preset's link.
func (p Preset) Computed() (int, error) {
	st, err := Parse(p.Stack)
	if err != nil {
		return 0, err
	}
	t, err := st.TunnelMTU(p.LinkMTU)
	if err != nil {
		return 0, err
	}
	switch p.Published.Quantity {
	case QuantityTunnelMTU:
		return t, nil
	case QuantityMSSIPv4:
		return t - IPv4.HeaderLen() - 20, nil
	case QuantityMSSIPv6:
		return t - IPv6.HeaderLen() - 20, nil
	}
	return 0, fmt.Errorf("preset %s: unknown quantity %q", p.Name, p.Published.Quantity)
}
