package exporter

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// fakeResolver answers from a table; other names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range f[host] {
		a := netip.MustParseAddr(s)
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

var testResolver = fakeResolver{
	"dual.example":   {"192.0.2.10", "2001:db8::10"},
	"v6.example":     {"2001:db8::20"},
	"mapped.example": {"::ffff:192.0.2.30"},
	"split.example":  {"192.0.2.40", "203.0.113.40"},
}

func TestResolve(t *testing.T) {
	allow := []Prefix{{netip.MustParsePrefix("192.0.2.0/24")}, {netip.MustParsePrefix("2001:db8::/32")}}
	cases := []struct {
		name, target, family string
		allow                []Prefix
		want                 string // address, or "!" + error text
	}{
		{"ipv4 literal", "192.0.2.1", "any", nil, "192.0.2.1"},
		{"ipv6 in brackets", "[2001:db8::1]", "any", nil, "2001:db8::1"},
		{"ipv6 without brackets", "2001:db8::1", "any", nil, `!target "2001:db8::1": an IPv6 literal needs brackets: [2001:db8::1]`},
		{"ipv4 with port", "192.0.2.1:4821", "any", nil, "!a port is not allowed here"},
		{"ipv6 with port", "[2001:db8::1]:4821", "any", nil, "!a port or text after the brackets"},
		{"unclosed bracket", "[2001:db8::1", "any", nil, "!no closing bracket"},
		{"ipv4 in brackets", "[192.0.2.1]", "any", nil, "!not an IPv6 address in brackets"},
		{"empty", "", "any", nil, "!empty"},
		{"bad name", "exa mple", "any", nil, "!not a host name"},
		{"name does not resolve", "nowhere.example", "any", nil, `!target "nowhere.example": does not resolve`},
		{"name first address", "dual.example", "any", nil, "192.0.2.10"},
		{"name ipv6", "dual.example", "ipv6", nil, "2001:db8::10"},
		{"name ipv4 only", "v6.example", "ipv4", nil, "!does not resolve"},
		{"mapped address unmapped", "mapped.example", "any", nil, "192.0.2.30"},
		{"literal of the wrong family", "192.0.2.1", "ipv6", nil, "!no ipv6 address"},
		{"allowed literal", "192.0.2.1", "any", allow, "192.0.2.1"},
		{"allowed ipv6", "[2001:db8::5]", "any", allow, "2001:db8::5"},
		{"not allowed", "198.51.100.1", "any", allow, `!target "198.51.100.1": 198.51.100.1 is not in allowed_targets`},
		{"not allowed loopback", "127.0.0.1", "any", allow, "!not in allowed_targets"},
		{"every address must be allowed", "split.example", "any", allow, "!203.0.113.40 is not in allowed_targets"},
		{"allowed name", "dual.example", "any", allow, "192.0.2.10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := resolve(context.Background(), testResolver, tc.target, tc.family, tc.allow)
			if strings.HasPrefix(tc.want, "!") {
				var bt *BadTarget
				if err == nil || !errors.As(err, &bt) || !strings.Contains(err.Error(), tc.want[1:]) {
					t.Fatalf("got %v, %v; want error %q", a, err, tc.want[1:])
				}
				return
			}
			if err != nil || a.String() != tc.want {
				t.Fatalf("got %v, %v; want %s", a, err, tc.want)
			}
		})
	}
}

// FuzzParseTarget: every string is a target or a BadTarget, never a panic;
// an accepted literal round-trips.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"192.0.2.1",        // IPv4 literal
		"[2001:db8::1]",    // IPv6 in brackets
		"2001:db8::1",      // IPv6 without brackets: refused
		"host:80",          // a port: refused
		"[fe80::1%eth0]",   // zone
		"example.com.",     // trailing dot
		"[::ffff:1.2.3.4]", // mapped: refused
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, a, err := ParseTarget(s)
		if err != nil {
			var bt *BadTarget
			if !errors.As(err, &bt) || strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if host != s {
			t.Fatalf("host %q from %q", host, s)
		}
		if a.IsValid() && a.Is6() != strings.HasPrefix(s, "[") {
			t.Fatalf("%q gave %v", s, a)
		}
	})
}
