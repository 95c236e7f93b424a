package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/probe"
)

// The configuration in issue 15, as written.
const issueConfig = `modules:
  udp:
    method: udp
    port: 4821
    timeout: 60s
`

func TestParseIssueConfig(t *testing.T) {
	c, err := Parse([]byte(issueConfig))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Modules["udp"]
	if m == nil || m.Method != probe.MethodUDP || m.Port != 4821 || time.Duration(m.Timeout) != 60*time.Second {
		t.Fatalf("module %+v", m)
	}
	// Defaults.
	if m.Search != "mtukit" || m.Retries != 3 || m.Rate != 50 || time.Duration(m.ProbeTimeout) != time.Second || m.Family != "any" || !*m.Remember {
		t.Errorf("defaults %+v", m)
	}
}

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(`
allowed_targets: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7]
modules:
  icmp6:
    method: icmp
    family: ipv6
    min: 1280
    max: 9000
    stack: wireguard
    hops: true
    probe_timeout: 250ms
    timeout: 1m30s
    search: rfc8899
    retries: 2
    ptb_confirm: 2
    rate: 100
    socket: raw
    remember: false
  tcp:
    method: tcp
    token: s3cret
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.AllowedTargets) != 3 || c.AllowedTargets[2].String() != "198.51.100.7/32" {
		t.Errorf("allowed %v", c.AllowedTargets)
	}
	m := c.Modules["icmp6"]
	if m.Min != 1280 || m.Max != 9000 || !m.Hops || time.Duration(m.Timeout) != 90*time.Second || *m.Remember || m.PTBConfirm != 2 {
		t.Errorf("icmp6 %+v", m)
	}
	if got := strings.Join(c.ModuleNames(), ","); got != "icmp6,tcp" {
		t.Errorf("names %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"empty", ``, "empty configuration"},
		{"no modules", "modules: {}\n", "no modules"},
		{"unknown top key", "modules:\n  a: {}\nmodule: x\n", `line 3: unknown key "module" (known: allowed_targets, modules)`},
		{"unknown module key", "modules:\n  udp:\n    method: udp\n    prot: 4821\n", `line 4: unknown key "prot" in module "udp"`},
		{"bad method", "modules:\n  a:\n    method: sctp\n", `module "a": method "sctp": want icmp, udp or tcp`},
		{"bad port", "modules:\n  a:\n    port: 70000\n", `module "a": port 70000`},
		{"bad timeout", "modules:\n  a:\n    timeout: 60\n", "line 3: duration \"60\": want a number and a unit"},
		{"negative timeout", "modules:\n  a:\n    timeout: -1s\n", "timeout -1s"},
		{"bad family", "modules:\n  a:\n    family: ip4\n", `family "ip4": want ipv4, ipv6 or any`},
		{"min too small", "modules:\n  a:\n    min: 20\n", "min 20"},
		{"ipv6 min", "modules:\n  a:\n    family: ipv6\n    min: 1200\n", "min 1200: want 1280..65535"},
		{"max below min", "modules:\n  a:\n    min: 1400\n    max: 1300\n", "max 1300"},
		{"bad stack", "modules:\n  a:\n    stack: gre/nonsense\n", `stack "gre/nonsense"`},
		{"hops on udp", "modules:\n  a:\n    method: udp\n    hops: true\n", "hops: only with the icmp method"},
		{"token on icmp", "modules:\n  a:\n    token: x\n", "token: only for the udp and tcp methods"},
		{"bad search", "modules:\n  a:\n    search: fastest\n", `search "fastest"`},
		{"bad rate", "modules:\n  a:\n    rate: -5\n", "rate -5"},
		{"bad socket", "modules:\n  a:\n    socket: packet\n", `socket "packet"`},
		{"wrong type", "modules:\n  a:\n    port: many\n", "cannot unmarshal"},
		{"null module", "modules:\n  a:\n", `module "a": empty`},
		{"module not a mapping", "modules:\n  a: [1, 2]\n", `line 2: module "a": want a mapping of keys`},
		{"modules a list", "modules: [a, b]\n", "line 1: modules: want a mapping"},
		{"bad prefix", "allowed_targets: [10.0.0.0/33]\nmodules:\n  a: {}\n", `line 1: allowed target "10.0.0.0/33"`},
		{"bad address", "allowed_targets: [example.com]\nmodules:\n  a: {}\n", `allowed target "example.com": not an address or a prefix`},
		{"two documents", "modules:\n  a: {}\n---\nmodules: {}\n", "line 3: a second YAML document"},
		{"syntax", "modules:\n  a: {\n", "line"},
		{"alias", "x: &x {}\nmodules:\n  a: *x\n", "unknown key \"x\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error on several lines: %q", err)
			}
		})
	}
}

// FuzzParse: any input is a configuration or a one-line error, never a
// panic; an accepted configuration has checked modules.
func FuzzParse(f *testing.F) {
	f.Add(issueConfig)                                          // the issue's example
	f.Add("modules:\n  a:\n    prot: 1\n")                      // unknown key
	f.Add("allowed_targets: [10.0.0.0/8]\nmodules:\n  a: {}\n") // allow-list
	f.Add("modules:\n  a: &x {}\n  b: *x\n")                    // alias
	f.Add("modules:\n  a:\n    timeout: 1h\n")                  // over the limit
	f.Add("modules: !!binary aGVsbG8=\n")                       // odd tag
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse([]byte(s))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on several lines: %q", err)
			}
			return
		}
		for name, m := range c.Modules {
			if m == nil || m.Method == "" || m.Port == 0 || m.Timeout <= 0 || m.Remember == nil {
				t.Fatalf("module %q accepted unchecked: %+v", name, m)
			}
		}
	})
}
