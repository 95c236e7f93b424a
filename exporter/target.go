package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Resolver looks up a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// BadTarget is a target the exporter refuses (HTTP 400).
type BadTarget struct {
	Target string
	Reason string
}

func (e *BadTarget) Error() string { return fmt.Sprintf("target %q: %s", e.Target, e.Reason) }

// ParseTarget reads a scrape's target: an IPv4 address, an IPv6 address
// in brackets ("[2001:db8::1]": without them "2001:db8::1" could be a host
// and a port), or a host name. A port is refused: the module sets it. The
// address is returned when the target is a literal.
func ParseTarget(s string) (host string, addr netip.Addr, err error) {
	bad := func(format string, a ...any) (string, netip.Addr, error) {
		return "", netip.Addr{}, &BadTarget{Target: s, Reason: fmt.Sprintf(format, a...)}
	}
	switch {
	case s == "":
		return bad("empty: want ?target=HOST")
	case len(s) > 255:
		return bad("longer than 255 characters")
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("no closing bracket")
		}
		if end != len(s)-1 {
			return bad("a port or text after the brackets: the module sets the port")
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Is4In6() {
			return bad("not an IPv6 address in brackets")
		}
		return s, a, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is6() {
			return bad("an IPv6 literal needs brackets: [%s]", s)
		}
		return s, a, nil
	}
	if strings.Contains(s, ":") {
		return bad("a port is not allowed here: the module sets it")
	}
	if err := checkHostname(s); err != nil {
		return bad("%v", err)
	}
	return s, netip.Addr{}, nil
}

// checkHostname accepts DNS names: labels of letters, digits, '-' and '_',
// 1..63 characters, dot-separated.
func checkHostname(s string) error {
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a host name (an empty or over-long label)")
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("not a host name (character %q)", c)
			}
		}
	}
	return nil
}

// resolve turns a target into the one address to probe: the literal, or
// the first address of the module's family the name resolves to. With an
// allow-list, every address the name resolves to must be inside it, and
// the address checked is the address probed (no second lookup, so a name
// that changes its answers cannot slip past the list).
func resolve(ctx context.Context, r Resolver, target, family string, allow []Prefix) (netip.Addr, error) {
	host, addr, err := ParseTarget(target)
	if err != nil {
		return netip.Addr{}, err
	}
	bad := func(format string, a ...any) (netip.Addr, error) {
		return netip.Addr{}, &BadTarget{Target: target, Reason: fmt.Sprintf(format, a...)}
	}
	var addrs []netip.Addr
	if addr.IsValid() {
		addrs = []netip.Addr{addr}
	} else {
		network := "ip"
		switch family {
		case "ipv4":
			network = "ip4"
		case "ipv6":
			network = "ip6"
		}
		addrs, err = r.LookupNetIP(ctx, network, host)
		if err != nil || len(addrs) == 0 {
			reason := "no address"
			if err != nil {
				reason = err.Error()
			}
			return bad("does not resolve (%s)", reason)
		}
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	if len(allow) > 0 {
		for _, a := range addrs {
			if !allowed(allow, a) {
				return bad("%s is not in allowed_targets", a)
			}
		}
	}
	for _, a := range addrs {
		if family == "any" || (family == "ipv4") == a.Is4() {
			return a, nil
		}
	}
	return bad("no %s address (module family %s)", family, family)
}

func allowed(allow []Prefix, a netip.Addr) bool {
	a = a.WithZone("")
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
