package cli

import (
	"strings"
	"testing"
)

// TestCompletion asks cobra's __complete entry point, as the shell scripts
// do, for flag values.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string // candidates (before any tab description)
		not  []string
	}{
		{"layer after /", []string{"calc", "--stack", "pppoe/es"}, []string{"pppoe/esp"}, []string{"pppoe/gre"}},
		{"first layer", []string{"calc", "--stack", "wi"}, []string{"wireguard"}, nil},
		{"alias", []string{"calc", "--stack", "w"}, []string{"wg", "wireguard"}, nil},
		{"argument", []string{"calc", "--stack", "pppoe/esp(aes-g"}, []string{"pppoe/esp(aes-gcm-16", "pppoe/esp(aes-gmac"}, []string{"pppoe/esp(aes-cbc"}},
		{"argument after a comma, not twice", []string{"calc", "--stack", "gre(key,"}, []string{"gre(key,seq", "gre(key,ipv6"}, []string{"gre(key,key"}},
		{"int argument takes =", []string{"calc", "--stack", "geneve(op"}, []string{"geneve(opts="}, nil},
		{"closed layer: nothing", []string{"calc", "--stack", "gre(key)"}, nil, []string{"gre"}},
		{"tput stack", []string{"tput", "--stack", "vx"}, []string{"vxlan", "vxlan-gpe"}, nil},
		{"preset", []string{"calc", "--preset", "tail"}, []string{"tailscale"}, nil},
		{"tput preset", []string{"tput", "--preset", "pppoe"}, []string{"pppoe", "pppoe-vlan", "pppoe-baby-jumbo"}, nil},
		{"vendor list", []string{"calc", "--vendor", "linux-iptables,ci"}, []string{"linux-iptables,cisco-ios", "linux-iptables,cisco-asa"}, nil},
		{"strategy", []string{"sim", "--strategy", ""}, []string{"all", "binary", "mtukit"}, nil},
		{"sim tunnel", []string{"sim", "--tunnel", ""}, []string{"ipsec", "all"}, nil},
		{"tput tunnel", []string{"tput", "--tunnel", ""}, []string{"ipsec", "wireguard"}, []string{"all"}},
		{"method", []string{"probe", "--method", ""}, []string{"icmp", "udp", "tcp"}, nil},
		{"family", []string{"calc", "--family", ""}, []string{"ipv4", "ipv6"}, []string{"both"}},
		{"clamp family", []string{"clamp", "--family", ""}, []string{"both"}, nil},
		{"too-big", []string{"tput", "--too-big", "b"}, []string{"blackhole"}, []string{"pmtud"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, code := run(t, append([]string{"__complete"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			got := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				if l == "" || strings.HasPrefix(l, ":") {
					continue
				}
				c, _, _ := strings.Cut(l, "\t")
				got[c] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no %q among %v", w, got)
				}
			}
			for _, n := range tc.not {
				if got[n] {
					t.Errorf("%q offered", n)
				}
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	a, _, c1 := run(t, "--version")
	b, _, c2 := run(t, "version")
	if c1 != 0 || c2 != 0 || a != b || !strings.HasPrefix(a, "mtukit ") {
		t.Errorf("--version %q (%d), version %q (%d): want the same line", a, c1, b, c2)
	}
}

// TestFlagErrors: one line, exit 2, naming the flag in words.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"synonym", []string{"serve", "--addr", ":80"}, "unknown flag --addr for mtukit serve (did you mean --listen?)"},
		{"typo", []string{"calc", "--stak", "gre"}, "unknown flag --stak for mtukit calc (did you mean --stack?)"},
		{"nothing close", []string{"calc", "--zzzzzz"}, "unknown flag --zzzzzz for mtukit calc (see mtukit calc --help)"},
		{"int", []string{"calc", "--mtu", "abc"}, `--mtu "abc": want a whole number`},
		{"duration", []string{"tput", "--rtt", "5x"}, `--rtt "5x": want a duration such as 50ms or 1.5s`},
		{"float", []string{"tput", "--loss", "lots"}, `--loss "lots": want a number`},
		{"reversed range", []string{"tput", "--pmtu", "1500:1200"}, "range 1500:1200 is reversed: write 1200:1500"},
		{"weights below 1", []string{"tput", "--pmtu", "1500=0.5,1420=0.3"}, "--pmtu: weights add up to 0.8, not 1"},
		{"a weight missing", []string{"tput", "--pmtu", "1500=0.5,1420"}, `--pmtu: item 2 ("1420"): give every item a weight (adding up to 1), or none`},
		{"tunnel lists families", []string{"tput", "--tunnel", "foo"}, "want one of gre, gtpu, ipsec"},
		{"preset and stack", []string{"calc", "--preset", "wg-quick", "--stack", "gre"}, `--preset wg-quick and --stack "gre" both given`},
		{"tput preset and stack", []string{"tput", "--preset", "wg-quick", "--stack", "gre"}, `--preset wg-quick and --stack "gre" both given`},
		{"unknown preset", []string{"calc", "--preset", "tailscal"}, `--preset: unknown preset "tailscal" (did you mean "tailscale"?): want one of cloudflare-magic-wan-gre, `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, tc.args...)
			if code != ExitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line containing %q", code, errOut, tc.want)
			}
			if strings.Contains(errOut, "strconv.") || strings.Contains(errOut, "[") {
				t.Errorf("stderr %q shows Go internals", errOut)
			}
		})
	}
}

// TestPresetFlags: calc and tput take the preset's stack and link MTU, and
// an explicit --mtu wins.
func TestPresetFlags(t *testing.T) {
	out, _, code := run(t, "calc", "--preset", "pppoe-baby-jumbo", "--vendor", "vyos")
	if code != 0 || !strings.Contains(out, "mtukit calc: pppoe on a 1508-byte link") || !strings.Contains(out, "published tunnel_mtu 1500") {
		t.Errorf("calc --preset: %d\n%s", code, out)
	}
	out, _, _ = run(t, "calc", "--preset", "pppoe", "--mtu", "1400", "--vendor", "vyos")
	if !strings.Contains(out, "pppoe on a 1400-byte link") || !strings.Contains(out, "tunnel MTU         1392") {
		t.Errorf("--mtu must win over the preset's:\n%s", out)
	}
	out, _, code = run(t, "tput", "--preset", "aws-gwlb-geneve", "--json")
	if code != 0 || !strings.Contains(out, `"link_mtu": 8568`) {
		t.Errorf("tput --preset: %d\n%.400s", code, out)
	}
	out, _, code = run(t, "calc", "--list-presets", "--json")
	if code != 0 || !strings.Contains(out, `"computed": 1420`) || !strings.Contains(out, `"name": "tailscale"`) {
		t.Errorf("--list-presets --json: %d\n%.300s", code, out)
	}
}

// FuzzCompleteStack: stack completion never panics, and every candidate
// extends what was typed.
func FuzzCompleteStack(f *testing.F) {
	for _, s := range []string{"", "pppoe/es", "esp(aes-g", "gre(key,", "((", "a/b(c/d", "gre(key)/", ")/("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, to string) {
		for _, c := range completeStack(to) {
			v, _, _ := strings.Cut(c, "\t")
			if !strings.HasPrefix(strings.ToLower(v), strings.ToLower(to)) {
				t.Fatalf("%q: candidate %q does not extend it", to, v)
			}
		}
	})
}
