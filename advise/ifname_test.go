package advise

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckName: names from each platform's own documentation and
// configuration are accepted; the shapes each refuses are refused.
func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		p    Platform
		name string
		ok   bool
	}{
		// Linux: dev_valid_name (net/core/dev.c) and the shell-safe set
		{Linux, "tun0", true},
		{Linux, "wg-office", true},
		{Linux, "eth0.100", true},
		{Linux, "br_lan", true},
		{Linux, "abcdefghijklmno", true},   // 15 bytes: IFNAMSIZ-1
		{Linux, "abcdefghijklmnop", false}, // 16
		{Linux, "", false},
		{Linux, ".", false},
		{Linux, "..", false},
		{Linux, "a/b", false},
		{Linux, "eth0:1", false}, // alias syntax, refused by the kernel
		{Linux, "tun 0", false},
		{Linux, "tun0\nip route add 0.0.0.0/0 via 6.6.6.6", false},
		{Linux, "tun0;reboot", false},
		{Linux, "$(id)", false},
		{Linux, "`id`", false},
		{Linux, "tun0'", false},
		{Linux, "tun0\"", false},
		{Linux, "ppp+", false}, // iptables wildcard
		{Linux, "ppp*", false}, // nft wildcard
		{Linux, "-j", false},   // read as an option
		{Linux, "tün0", false},
		// RouterOS
		{RouterOS, "ether1", true},
		{RouterOS, "pppoe-out1", true},
		{RouterOS, "gre-tunnel1", true},
		{RouterOS, "ether1 wan", false},
		{RouterOS, "a]", false},
		{RouterOS, "$x", false},
		// Cisco IOS
		{IOS, "Tunnel0", true},
		{IOS, "GigabitEthernet0/0/1.100", true},
		{IOS, "Port-channel1", true},
		{IOS, "Dialer1", true},
		{IOS, "Tunnel", false},
		{IOS, "Tunnel0\n shutdown", false},
		// Junos
		{Junos, "ge-0/0/0", true},
		{Junos, "ge-0/0/0.0", true},
		{Junos, "xe-0/0/0:1", true},
		{Junos, "st0.1", true},
		{Junos, "gr-0/0/0", true},
		{Junos, "irb.10", true},
		{Junos, "ge-0/0", false},
		{Junos, "GE-0/0/0", false},
		// PAN-OS
		{PANOS, "ethernet1/1", true},
		{PANOS, "ethernet1/1.100", true},
		{PANOS, "ae1", true},
		{PANOS, "tunnel.1", true},
		{PANOS, "eth0", false},
		{PANOS, "ethernet1/1 layer3", false},
		// VyOS (vyos-1x interface-name constraint)
		{VyOS, "tun0", true},
		{VyOS, "eth0.100", true},
		{VyOS, "wg0", true},
		{VyOS, "lo", true},
		{VyOS, "gre1", false},
		{VyOS, "tun0 mtu 9000", false},
	} {
		t.Run(string(tc.p)+"/"+tc.name, func(t *testing.T) {
			err := CheckName(tc.p, tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckName(%s, %q) = %v, want ok %v", tc.p, tc.name, err, tc.ok)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error on more than one line: %q", err)
			}
		})
	}
}

// TestCalcRefusesNames: the reported injection is refused with one line
// naming the parameter (the CLI makes it exit 2, the API a 400, from the
// error path every Calc error takes); accepted names come out unchanged.
func TestCalcRefusesNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		err  string
	}{
		{"route injection", Options{Stack: "gre", Interface: "tun0\nip route add 0.0.0.0/0 via 6.6.6.6"},
			`interface "tun0\nip route add 0.0.0.0/0 via 6.6.6.6": "\n" at byte 4 is not allowed in a Linux interface name (letters, digits, '.', '_', '-')`},
		{"too long", Options{Stack: "gre", Interface: "tunnel-to-office"},
			`interface "tunnel-to-office": 16 bytes, over the 15 of a Linux interface name (IFNAMSIZ)`},
		{"command substitution", Options{Stack: "gre", Interface: "$(reboot)"},
			`interface "$(reboot)": "$" at byte 0 is not allowed in a Linux interface name (letters, digits, '.', '_', '-')`},
		{"physical", Options{Stack: "gre", Physical: "ethernet1/1 layer3 adjust-tcp-mss enable no"},
			`physical "ethernet1/1 layer3 adjust-tcp-mss enable no": "/" at byte 9 is not allowed in a Linux interface name (letters, digits, '.', '_', '-'), nor a PAN-OS one`},
		{"accepted", Options{Stack: "gre", Interface: "gre-office1", Physical: "ethernet1/3.20"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Calc(tc.opts)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.Join(configLines(r), "\n"), " "+tc.opts.Interface+" ") ||
					!strings.Contains(strings.Join(configLines(r), "\n"), " "+tc.opts.Physical+" ") {
					t.Errorf("names not in the lines:\n%s", strings.Join(configLines(r), "\n"))
				}
				return
			}
			var ne *NameError
			if err == nil || err.Error() != tc.err || !errors.As(err, &ne) {
				t.Fatalf("error %v, want %s", err, tc.err)
			}
		})
	}
}

func configLines(r *Report) []string {
	var out []string
	for _, v := range r.Clamp {
		out = append(out, v.Lines...)
	}
	return out
}

// FuzzInterfaceNames: whatever the two names, a configuration Calc
// generates never carries a character of the input outside the allowed
// set ([A-Za-z0-9._-], and '/' for the physical interface), and has the
// same lines, vendor by vendor, as with the default names: no input adds,
// splits or removes a line.
func FuzzInterfaceNames(f *testing.F) {
	for _, s := range [][2]string{
		{"tun0", "eth0"}, // the defaults
		{"tun0\nip route add 0.0.0.0/0 via 6.6.6.6", "eth0"}, // the reported injection
		{"wg-office", "ethernet1/1"},                         // accepted on both
		{"a;reboot", "eth0"},                                 // shell separator
		{"$(id)", "`id`"},                                    // command substitution
		{"tun0", "ethernet1/1\nset deviceconfig"},            // PAN-OS line injection
		{"x]", "eth0"},                                       // RouterOS [find] bracket
		{"tun0\"", "eth0"},                                   // nft quoted string
		{"abcdefghijklmnop", "eth0"},                         // 16 bytes
		{"-o", "eth0"},                                       // option
		{"tün0", "eth0"},                                     // non-ASCII
		{"tun0\r", "eth0\t"},                                 // control characters
	} {
		f.Add(s[0], s[1])
	}
	stacks := []string{"gre", "esp", "pppoe/esp(aes-gcm-16)/gre", "wireguard", "vxlan", "pppoe", "dot1q"}
	base := map[string][]int{}
	for _, st := range stacks {
		r, err := Calc(Options{Stack: st})
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range r.Clamp {
			base[st] = append(base[st], len(v.Lines))
		}
	}
	f.Fuzz(func(t *testing.T, ifn, phys string) {
		for _, st := range stacks {
			r, err := Calc(Options{Stack: st, Interface: ifn, Physical: phys})
			if err != nil {
				if strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("error on more than one line: %q", err)
				}
				continue
			}
			for i, v := range r.Clamp {
				if len(v.Lines) != base[st][i] {
					t.Fatalf("%s %s: %d lines, %d with the default names", st, v.Vendor, len(v.Lines), base[st][i])
				}
				for _, line := range v.Lines {
					for _, c := range line {
						inIfn := strings.ContainsRune(ifn, c) && !allowedIn(c, "._-")
						inPhys := strings.ContainsRune(phys, c) && !allowedIn(c, "._-/")
						if (inIfn || inPhys) && strings.ContainsRune(line, c) {
							t.Fatalf("%s %s: line %q carries %q from the input (interface %q, physical %q)", st, v.Vendor, line, c, ifn, phys)
						}
					}
				}
			}
		}
	})
}

func allowedIn(c rune, extra string) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(extra, c)
}
