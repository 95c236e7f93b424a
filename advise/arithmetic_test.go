package advise

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestArithmetic checks the written-out subtraction against terms worked
// by hand from the RFCs' header sizes, and that the terms sum to the tunnel
// MTU Calc reports.
func TestArithmetic(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		link        int
		terms       []int // by hand, wire inwards
		text        string
	}{
		{"plain link", "", 1500, nil, "1500 (no layers) = 1500; 1500 - 40 = 1460 (IPv4 MSS), 1500 - 60 = 1440 (IPv6 MSS)"},
		// RFC 2516: 6 PPPoE + 2 PPP. ESP (RFC 4303, RFC 4106) in 1492:
		// outer IPv4 20 + SPI/seq 8 + IV 8 + ICV 16 = 52, and pad+2 aligns
		// the payload to 4: 1438+2 = 1440, so 54. GRE (RFC 2784): 20 + 4.
		{"issue 16's example", "pppoe/esp(aes-gcm-16)/gre", 1500, []int{8, 54, 24},
			"1500 - 8 (pppoe) - 54 (esp(aes-gcm-16) at this size) - 24 (gre) = 1414; 1414 - 40 = 1374 (IPv4 MSS), 1414 - 60 = 1354 (IPv6 MSS)"},
		// RFC 7348: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14.
		{"vxlan", "vxlan", 1500, []int{50}, ""},
		// IPv6 40 + UDP 8 + WireGuard data header 16 + tag 16.
		{"wireguard ipv6 underlay", "wireguard(ipv6)", 1500, []int{80}, ""},
		{"ipv6 then gre", "ipv6/gre", 1500, []int{40, 24}, ""},
		// 20 + 8 + IV 16 + ICV 16 = 60, and 1438+2 = 1440 = 90 x 16.
		{"esp cbc", "esp(aes-cbc,sha256)", 1500, []int{62}, ""},
		{"vlan tag outside the mtu", "dot1q/ipip", 1500, []int{0, 20},
			"1500 - 0 (dot1q outside the MTU) - 20 (ipip) = 1480; 1480 - 40 = 1440 (IPv4 MSS), 1480 - 60 = 1420 (IPv6 MSS)"},
		{"two mpls labels", "mpls(labels=2)", 9000, []int{8}, ""},
		{"small link: no ipv6 mss", "gre", 1000, []int{24}, "1000 - 24 (gre) = 976; 976 - 40 = 936 (IPv4 MSS)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Calc(Options{Stack: tc.stack, LinkMTU: tc.link})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			sum := 0
			for i, term := range r.Arithmetic.Terms {
				got = append(got, term.Bytes)
				sum += term.Bytes
				if term.Layer != i || term.Spec != r.Layers[i].Spec {
					t.Errorf("term %d names layer %d %q, want %q", i, term.Layer, term.Spec, r.Layers[i].Spec)
				}
			}
			if diff := cmp.Diff(tc.terms, got); diff != "" {
				t.Errorf("terms (-by hand +report):\n%s", diff)
			}
			if tc.link-sum != r.TunnelMTU {
				t.Errorf("%d minus the terms is %d, but the tunnel MTU is %d", tc.link, tc.link-sum, r.TunnelMTU)
			}
			if r.TunnelMTU-40 != r.MSS.IPv4 {
				t.Errorf("IPv4 MSS %d is not %d - 40", r.MSS.IPv4, r.TunnelMTU)
			}
			if tc.text != "" && r.Arithmetic.Text != tc.text {
				t.Errorf("text\n got %s\nwant %s", r.Arithmetic.Text, tc.text)
			}
		})
	}
}
