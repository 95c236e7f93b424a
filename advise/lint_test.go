package advise

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

// TestLintStack: stacks that solve but that no device builds, with the
// spelling the warning offers; the suggestion must itself parse and draw
// no lint warning.
func TestLintStack(t *testing.T) {
	for _, tc := range []struct {
		name, stack string
		code        string // "" for no linter warning
		meant       string // the suggested stack, "" for none
	}{
		{"ipv6 layer under wireguard", "ipv6/wireguard", WarnDoubleOuterIP, "wireguard(ipv6)"},
		{"ipv6 layer under gre keeps its args", "ipv6/gre(key)", WarnDoubleOuterIP, "gre(key,ipv6)"},
		{"ipv6 layer under esp inside pppoe", "pppoe/ipv6/esp(aes-gcm-16)", WarnDoubleOuterIP, "pppoe/esp(aes-gcm-16,ipv6)"},
		{"ipv4 layer under gre: drop it", "ipv4/gre", WarnDoubleOuterIP, "gre"},
		{"ipv6 layer under ip6gre: drop it", "ipv6/ip6gre", WarnDoubleOuterIP, "ip6gre"},
		{"ipv4 under an IPv6-only tunnel", "ipv4/ip6tnl", WarnDoubleOuterIP, ""},
		{"ethernet inside gre", "gre/eth", WarnEthernetOrder, "gretap"},
		{"ethernet inside gre(ipv6,key)", "gre(ipv6,key)/eth", WarnEthernetOrder, "gretap(key,ipv6)"},
		{"ethernet inside openvpn", "openvpn/eth", WarnEthernetOrder, "openvpn(tap)"},
		{"ethernet inside vxlan-gpe", "vxlan-gpe/eth", WarnEthernetOrder, "vxlan-gpe(eth)"},
		{"ethernet counted twice in vxlan", "vxlan/eth", WarnEthernetOrder, "vxlan"},
		{"the link's own ethernet", "eth/pppoe", WarnEthernetOrder, "pppoe"},
		{"ethernet inside esp: no variant", "esp/eth", WarnEthernetOrder, ""},
		// real stacks: silent
		{"ESP inside VXLAN inside ESP", "esp(aes-gcm-16)/vxlan/esp(aes-gcm-16)", "", ""},
		{"gre inside esp transport", "esp(transport)/gre", "", ""},
		{"ipv6 under transport esp", "ipv6/esp(transport)", "", ""},
		{"ip-in-ip by hand", "ipv4/ipv4", "", ""},
		{"gretap", "gretap", "", ""},
		{"pppoe esp gre", "pppoe/esp(aes-gcm-16)/gre", "", ""},
		{"udp by hand", "ipv4/udp", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := lintStack(encap.MustParse(tc.stack))
			if tc.code == "" {
				if len(w) != 0 {
					t.Fatalf("warnings %v, want none", w)
				}
				return
			}
			if len(w) != 1 || w[0].Code != tc.code {
				t.Fatalf("warnings %v, want one %s", w, tc.code)
			}
			if tc.meant == "" {
				if strings.Contains(w[0].Message, "did you mean") || strings.Contains(w[0].Message, "Did you mean") {
					t.Errorf("message %q suggests a stack, want none", w[0].Message)
				}
				return
			}
			if !strings.Contains(w[0].Message, `mean "`+tc.meant+`"?`) {
				t.Errorf("message %q does not suggest %q", w[0].Message, tc.meant)
			}
			if again := lintStack(encap.MustParse(tc.meant)); len(again) != 0 {
				t.Errorf("the suggestion %q draws %v", tc.meant, again)
			}
		})
	}
}

// TestLintInReport: the warnings reach the report, and the numbers they
// warn about are the doubled ones (ipv6/wireguard 1400, wireguard(ipv6)
// 1420: the Linux default, one outer header).
func TestLintInReport(t *testing.T) {
	bad := calc(t, Options{Stack: "ipv6/wireguard"})
	good := calc(t, Options{Stack: "wireguard(ipv6)"})
	if bad.TunnelMTU != 1400 || good.TunnelMTU != 1420 {
		t.Fatalf("tunnel MTUs %d and %d, want 1400 and 1420", bad.TunnelMTU, good.TunnelMTU)
	}
	if !hasWarning(bad, WarnDoubleOuterIP) || hasWarning(good, WarnDoubleOuterIP) {
		t.Errorf("warnings %v / %v", bad.Warnings, good.Warnings)
	}
}

func hasWarning(r *Report, code string) bool {
	for _, w := range r.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}

// FuzzLintStack: the linter never panics on a stack that parses, and every
// stack it suggests parses and draws no warning of the same code.
func FuzzLintStack(f *testing.F) {
	for _, s := range []string{
		"ipv6/wireguard",       // the example
		"ipv6/gre(key,seq)",    // arguments kept
		"gre/eth(vlan)",        // Ethernet inside an IP tunnel
		"vxlan/eth/eth",        // counted twice, twice
		"eth",                  // the link's own header
		"ipv4/ip6tnl",          // no IPv4 variant
		"wg/wg/wg/ipv6/wg/eth", // aliases: canonical specs grow
		"pppoe/esp(aes-gcm-16)/gre",
	} {
		f.Add(s)
	}
	quoted := regexp.MustCompile(`mean "([^"]*)"\?`)
	f.Fuzz(func(t *testing.T, spec string) {
		st, err := encap.Parse(spec)
		if err != nil {
			return
		}
		for _, w := range lintStack(st) {
			m := quoted.FindStringSubmatch(w.Message)
			if m == nil {
				continue
			}
			fixed, err := encap.Parse(m[1])
			if err != nil {
				t.Fatalf("%q: suggestion %q does not parse: %v", spec, m[1], err)
			}
			if len(fixed.Layers) >= len(st.Layers) {
				t.Fatalf("%q: suggestion %q is not shorter", spec, m[1])
			}
		}
	})
}
