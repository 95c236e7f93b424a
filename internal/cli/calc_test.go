package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/advise"
)

// Golden reports: the spec goes in, the whole report comes out, reviewed
// by a person in the diff whenever it changes.
var calcGoldens = []struct {
	name string
	args []string
}{
	{"plain", []string{}},
	{"readme", []string{"--stack", "pppoe/esp(aes-gcm-16)/gre"}},
	{"esp-cbc-sha1", []string{"--stack", "esp(aes-cbc,sha1)"}},
	{"esp-natt-gre-key", []string{"--stack", "pppoe/esp(aes-cbc,sha256,nat-t)/gre(key)", "--mtu", "1500"}},
	{"gre-in-esp-transport", []string{"--stack", "esp(aes-cbc,sha1,transport)/gre"}},
	{"wireguard-v6", []string{"--stack", "wireguard(ipv6)"}},
	{"vxlan-jumbo", []string{"--stack", "vxlan", "--mtu", "9000"}},
	{"ip6gre-v6", []string{"--stack", "ip6gre", "--family", "ipv6"}},
	{"3des-md5-1500", []string{"--stack", "esp(3des,md5)", "--packet", "1500"}},
	{"openvpn-cbc", []string{"--stack", "openvpn(cbc-sha256)", "--tcp-options", "ts,sack=1"}},
	{"critical", []string{"--stack", "gre", "--mtu", "600", "--vendor", "cisco-ios"}},
	// the stack linter (issue 16 §2): the intended spelling is offered
	{"lint-ipv6-wireguard", []string{"--stack", "ipv6/wireguard", "--vendor", "linux-iptables"}},
	{"lint-gre-eth", []string{"--stack", "gre/eth", "--vendor", "linux-iptables"}},
	// presets (issue 16 §1): the published figure beside mtukit's
	{"preset-tailscale", []string{"--preset", "tailscale", "--vendor", "linux-iptables"}},
	{"preset-baby-jumbo", []string{"--preset", "pppoe-baby-jumbo", "--vendor", "mikrotik"}},
}

func TestCalcGolden(t *testing.T) {
	for _, tc := range calcGoldens {
		t.Run(tc.name, func(t *testing.T) {
			_, jout := goldenReport(t, "calc", tc.name, tc.args...)
			var r advise.Report
			if err := json.Unmarshal([]byte(jout), &r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCalcList(t *testing.T) {
	out, _, code := run(t, "calc", "--list")
	if code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"esp", "aes-gcm-16", "RFC 4303", "vxlan", "wireguard", "srv6", "l2tpv3"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %q", want)
		}
	}
	jout, _, _ := run(t, "calc", "--list", "--json")
	var cat []map[string]any
	if err := json.Unmarshal([]byte(jout), &cat); err != nil || len(cat) < 25 {
		t.Fatalf("--list --json: %d layers, %v", len(cat), err)
	}
}

func TestCalcErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown layer", []string{"--stack", "pppoe/esx"}, `--stack: stack "pppoe/esx": unknown layer "esx" at position 7 (did you mean "esp"?)`},
		{"bad argument", []string{"--stack", "gre(kye)"}, `has no argument "kye" at position 5 (did you mean "key"?)`},
		{"mtu too small", []string{"--mtu", "67"}, "--mtu: link MTU 67 outside 68..65535"},
		{"mtu too large", []string{"--mtu", "65536"}, "outside 68..65535"},
		{"mtu not a number", []string{"--mtu", "big"}, `--mtu "big": want a whole number`},
		{"no room", []string{"--stack", "vxlan/vxlan", "--mtu", "150"}, "--stack: stack leaves no room on a 150-byte link: after layer 2 (vxlan) only 50 bytes remain"},
		{"bad family", []string{"--family", "ipx"}, "--family"},
		{"bad tcp options", []string{"--tcp-options", "ts,sack=4"}, "the TCP header holds 40"},
		{"bad vendor", []string{"--vendor", "huawei"}, "--vendor"},
		{"bad packet", []string{"--packet", "-1"}, "--packet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := run(t, append([]string{"calc"}, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errs)
			}
			if out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", errs, tc.want)
			}
			if regexp.MustCompile(`goroutine|panic`).MatchString(errs) {
				t.Fatal(errs)
			}
		})
	}
}
