package advise

import (
	"fmt"

	"github.com/mtukit/mtukit/encap"
)

// Warning is one thing to worry about, with a stable code for scripts.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Warning codes. They are part of the JSON contract: never rename one.
const (
	WarnJumbo            = "jumbo_mtu"
	WarnClampRequired    = "mss_clamp_required"
	WarnMSSBelow536      = "mss_below_536"
	WarnIPv6Below1280    = "ipv6_below_1280"
	WarnQUIC             = "quic_below_minimum"
	WarnPPPoE            = "pppoe_overhead"
	WarnNoFragOverlay    = "overlay_must_not_fragment"
	WarnClampNotUDP      = "clamp_tcp_only"
	WarnClampInner       = "clamp_on_inner_interface"
	WarnPadding          = "padding_varies"
	WarnWireGuardDefault = "wireguard_default_mtu"
	WarnEncapLimit       = "ipv6_encap_limit"
	WarnVLANOutside      = "vlan_tag_outside_mtu"
	WarnIPv6Underlay     = "ipv6_underlay_below_1280"
	WarnTimestamps       = "timestamps_cost_12"
	WarnTCPoverTCP       = "tcp_over_tcp"
	// The stack linter (lint.go).
	WarnDoubleOuterIP = "outer_ip_counted_twice"
	WarnEthernetOrder = "ethernet_not_carried"
)

func warnings(st *encap.Stack, r *Report, opts Options) []Warning {
	w := lintStack(st)
	add := func(code, format string, a ...any) {
		w = append(w, Warning{Code: code, Message: fmt.Sprintf(format, a...)})
	}
	t, link := r.TunnelMTU, r.LinkMTU
	has := func(pred func(l *encap.Layer) bool) *encap.Layer {
		for i := range st.Layers {
			if pred(&st.Layers[i]) {
				return &st.Layers[i]
			}
		}
		return nil
	}
	if link > 1500 {
		add(WarnJumbo, "a %d-byte MTU needs jumbo frames on every switch and router on the path; a switch with a smaller MTU drops larger frames silently (switches send no ICMP, so PMTUD cannot help)", link)
	}
	if t < link {
		v6 := ""
		if r.MSS.IPv6 > 0 {
			v6 = fmt.Sprintf(" and %d (IPv6)", r.MSS.IPv6)
		}
		add(WarnClampRequired, "hosts will advertise MSS %d from the %d-byte link; clamp it to %d (IPv4)%s on the tunnel, or TCP depends on PMTUD, which ICMP filtering breaks", link-40, link, r.MSS.IPv4, v6)
		add(WarnClampNotUDP, "MSS clamping only rewrites TCP SYNs: UDP (QUIC, DNS), ESP and ICMP still need the tunnel interface MTU set to %d", t)
	}
	if r.MSS.IPv4 < 536 {
		add(WarnMSSBelow536, "IPv4 MSS %d is below 536: legal, but a host that receives no MSS option assumes 536 (RFC 9293 §3.7.1), and its 576-byte packets do not fit this %d-byte tunnel: every SYN must be clamped", r.MSS.IPv4, t)
	}
	if t < 1280 {
		add(WarnIPv6Below1280, "tunnel MTU %d is below 1280, the IPv6 minimum (RFC 8200 §5): IPv6 over this tunnel needs fragmentation inside the tunnel", t)
	}
	if t < 1248 {
		fam := "IPv4 and IPv6"
		if t >= 1228 {
			fam = "IPv6"
		}
		add(WarnQUIC, "QUIC needs 1200-byte UDP payloads (RFC 9000 §14): an IP MTU of 1228 for IPv4, 1248 for IPv6; %d fails for %s", t, fam)
	}
	if has(func(l *encap.Layer) bool { return l.Has(encap.PPPSession) }) != nil {
		add(WarnPPPoE, "PPPoE takes 8 bytes (6 PPPoE + 2 PPP): the MTU is 1492 unless both ends do RFC 4638 baby jumbo frames (a 1508-byte Ethernet MTU gives PPPoE 1500)")
	}
	if l := has(func(l *encap.Layer) bool { return l.Kind == encap.KindOverlay && l.UDP }); l != nil {
		// RFC 7348's rule is VXLAN's; the other UDP overlays are only
		// advised against fragmentation, so they get no citation.
		rule := "should not be fragmented (the far end must reassemble them, and the inner frames carry no PMTUD of their own)"
		if l.Name == "vxlan" {
			rule = "must not be fragmented by the VTEP, and the receiving VTEP may drop fragments (RFC 7348 §4.3)"
		}
		add(WarnNoFragOverlay, "%s packets %s: set the overlay MTU to %d, or give the underlay an MTU of %d to carry 1500-byte inner packets", l.Name, rule, t, r.Overhead.For1500)
	}
	if enc := innermost(st, func(l *encap.Layer) bool { return l.Has(encap.Protects) }); enc != nil && t < link {
		// The SYNs are plain TCP only inside the innermost protecting
		// layer: clamp on the interface of the innermost layer of all. With
		// IPsec inside GRE (gre/esp) that is the IPsec interface, with GRE
		// inside IPsec (esp/gre) the GRE one.
		in := &st.Layers[len(st.Layers)-1]
		msg := fmt.Sprintf("TCP SYNs leave the physical interface inside %s (encrypted or authenticated), where no clamp can rewrite them: clamp where they are still plain TCP, on the interface of the innermost layer, %s (%s)", enc.Spec, in.Spec, opts.Interface)
		if enc.Kind == encap.KindIPsec {
			msg += "; with policy-based IPsec on Linux, a FORWARD rule with -m policy --pol ipsec --dir out sees them before encryption"
		}
		add(WarnClampInner, "%s", msg)
	}
	if r.Overhead.Min != r.Overhead.Max {
		add(WarnPadding, "padding makes the overhead vary from %d to %d bytes with packet size; at the tunnel MTU the packet is %d bytes, %d below the link MTU", r.Overhead.Min, r.Overhead.Max, r.Overhead.AtMTU, r.Overhead.Slack)
	}
	if l := has(func(l *encap.Layer) bool { return l.Name == "wireguard" }); l != nil && l.Outer == encap.IPv4 {
		add(WarnWireGuardDefault, "the Linux driver's default MTU (1420) and wg-quick's (the underlay MTU - 80) assume an IPv6 underlay (80 bytes); over IPv4 only 60 bytes are taken, so %d fits", r.Layers[layerIndex(st, l)].MTU)
	}
	if has(func(l *encap.Layer) bool {
		for _, p := range l.Head {
			if p.Name == "IPv6 encapsulation limit option" {
				return true
			}
		}
		return false
	}) != nil {
		add(WarnEncapLimit, "the IPv6 tunnel carries the 8-byte encapsulation limit option (RFC 2473 §4.1.1), as Linux ip6tnl/ip6gre do by default; 'encaplimit none' saves the 8 bytes")
	}
	if has(func(l *encap.Layer) bool { return l.NoCount }) != nil {
		add(WarnVLANOutside, "VLAN tags are counted outside the IP MTU, as on ports that accept 1522-byte (802.1Q) or 1526-byte (QinQ) frames; write dot1q(capped) if a hop caps the frame at 1518")
	}
	for i, l := range r.Layers {
		if st.Layers[i].Outer == encap.IPv6 && l.Room < 1280 {
			add(WarnIPv6Underlay, "%s needs an IPv6 underlay, whose packets may only be %d bytes here: below the IPv6 minimum of 1280", l.Spec, l.Room)
		}
	}
	if opts.TCP.Timestamps || t < link {
		add(WarnTimestamps, "TCP timestamps (on by default in Linux) cost 12 bytes per segment: MSS %d carries %d; do not subtract them in the clamp (RFC 6691)", r.MSS.IPv4, r.Payload.IPv4Timestamps)
	}
	if has(func(l *encap.Layer) bool { return l.Name == "openvpn" && l.Kind == encap.KindVPN && !l.UDP }) != nil {
		add(WarnTCPoverTCP, "OpenVPN over TCP stacks TCP on TCP: losses trigger retransmissions at both layers; prefer UDP. The outer connection's own TCP options are not counted here (12 bytes more per segment with timestamps, Linux's default)")
	}
	if w == nil {
		w = []Warning{}
	}
	return w
}

// innermost returns the innermost layer matching pred, or nil.
func innermost(st *encap.Stack, pred func(l *encap.Layer) bool) *encap.Layer {
	for i := len(st.Layers) - 1; i >= 0; i-- {
		if pred(&st.Layers[i]) {
			return &st.Layers[i]
		}
	}
	return nil
}

// layerIndex is the position of l in st.
func layerIndex(st *encap.Stack, l *encap.Layer) int {
	for i := range st.Layers {
		if &st.Layers[i] == l {
			return i
		}
	}
	return 0
}
