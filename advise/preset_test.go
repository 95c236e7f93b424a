package advise

import (
	"errors"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

// TestCalcPreset: a preset gives the stack and the link MTU, the report
// carries the published figure beside mtukit's, and an explicit link MTU
// still wins.
func TestCalcPreset(t *testing.T) {
	r := calc(t, Options{Preset: "pppoe-baby-jumbo"})
	if r.Stack != "pppoe" || r.LinkMTU != 1508 || r.TunnelMTU != 1500 || r.Preset == nil || r.Preset.Computed != 1500 || r.Preset.Published.Value != 1500 {
		t.Fatalf("baby jumbo: stack %q link %d tunnel %d preset %+v", r.Stack, r.LinkMTU, r.TunnelMTU, r.Preset)
	}
	r = calc(t, Options{Preset: "tailscale"})
	if r.Preset.Computed != 1420 || r.Preset.Published.Value != 1280 || r.Preset.Note == "" {
		t.Errorf("tailscale: %+v", r.Preset)
	}
	r = calc(t, Options{Preset: "pppoe", LinkMTU: 1400})
	if r.LinkMTU != 1400 || r.TunnelMTU != 1392 {
		t.Errorf("an explicit link MTU: %d / %d, want 1400 / 1392", r.LinkMTU, r.TunnelMTU)
	}
	if r := calc(t, Options{Stack: "gre"}); r.Preset != nil {
		t.Errorf("no preset, yet %+v", r.Preset)
	}
}

func TestCalcPresetErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"preset and stack", Options{Preset: "wg-quick", Stack: "gre"}, []string{"preset wg-quick", `stack "gre"`, "give one of them"}},
		{"unknown preset", Options{Preset: "tailscal"}, []string{`unknown preset "tailscal"`, `did you mean "tailscale"?`, "want one of"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Calc(tc.o)
			var pe *encap.ParamError
			if !errors.As(err, &pe) || pe.Param != "preset" {
				t.Fatalf("error %v: want a ParamError on preset", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

// TestDefaultInterfaceNames: with no interface given, the lines name the
// interface the platform gives the innermost layer (Linux: wg-quick's wg0,
// iproute2's first gre1 after the kernel's gre0, pppd's ppp0; RouterOS's
// default names), and VyOS keeps its tunN rule.
func TestDefaultInterfaceNames(t *testing.T) {
	for _, tc := range []struct {
		stack, linux, routerOS, vyos string
	}{
		{"wireguard", "wg0", "wireguard1", "set interfaces wireguard wg0 "},
		{"gre", "gre1", "gre-tunnel1", "set interfaces tunnel tun0 "},
		{"pppoe/esp(aes-gcm-16)/gre", "gre1", "gre-tunnel1", "set interfaces tunnel tun0 "},
		{"vxlan", "vxlan0", "vxlan1", "set interfaces vxlan vxlan0 "},
		{"pppoe", "ppp0", "pppoe-out1", "set interfaces pppoe pppoe0 "},
		{"esp(aes-gcm-16)", "ipsec0", "ipsec0", "set interfaces vti vti0 "},
		{"gretap", "gretap1", "gretap1", "set interfaces tunnel tun0 "},
		{"lisp", "tun0", "tun0", "set interfaces tunnel tun0 "},
		{"", "eth0", "eth0", "set interfaces ethernet eth0 "},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			r := calc(t, Options{Stack: tc.stack})
			lines := map[string]string{}
			for _, c := range r.Clamp {
				lines[c.Vendor] = strings.Join(c.Lines, "\n")
			}
			if !strings.Contains(lines["linux-iptables"], "ip link set dev "+tc.linux+" mtu") {
				t.Errorf("linux lines %q: want %s", lines["linux-iptables"], tc.linux)
			}
			if !strings.Contains(lines["mikrotik"], "[find name="+tc.routerOS+"]") {
				t.Errorf("mikrotik lines %q: want %s", lines["mikrotik"], tc.routerOS)
			}
			if !strings.HasPrefix(lines["vyos"], tc.vyos) {
				t.Errorf("vyos lines %q: want %q", lines["vyos"], tc.vyos)
			}
			for _, p := range []struct {
				p Platform
				n string
			}{{Linux, tc.linux}, {RouterOS, tc.routerOS}} {
				if err := CheckName(p.p, p.n); err != nil {
					t.Errorf("default name %q: %v", p.n, err)
				}
			}
		})
	}
	r := calc(t, Options{Stack: "wireguard", Interface: "wgx"})
	if !strings.Contains(strings.Join(r.Clamp[0].Lines, "\n"), "dev wgx ") || !strings.Contains(strings.Join(r.Clamp[6].Lines, "\n"), "name=wgx]") {
		t.Errorf("a given name must be used everywhere: %v", r.Clamp)
	}
}

// TestDefaultIfsAreLayers: every key of defaultIfs is a catalog layer.
func TestDefaultIfsAreLayers(t *testing.T) {
	for name := range defaultIfs {
		if _, err := encap.Parse(name); err != nil {
			t.Errorf("defaultIfs key %q: %v", name, err)
		}
	}
}
