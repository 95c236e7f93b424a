package tput

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// ParseDist reads a path MTU distribution (encap.ParseMTUDist, the parser
// the simulator's pmtu parameter shares):
//
//	1420                      known exactly
//	1400:1499                 a measurement: somewhere in 1400..1499, evenly
//	1500=0.6,1492=0.3,1420=0.1
func ParseDist(spec string) (Dist, error) {
	ws, err := encap.ParseMTUDist(spec)
	if err != nil {
		return nil, err
	}
	d := make(Dist, 0, len(ws))
	for _, w := range ws {
		d = append(d, Scenario{Prob: w.Weight, PathMTU: w.MTU})
	}
	return d.Normalize()
}

// tunnelTypes are the tunnel types, each a family of encap stacks: when
// all that is known is "some IPsec tunnel", each variant is taken as
// equally likely. They are encap.TunnelFamilies (the simulator's too), plus
// OpenVPN.
var tunnelTypes = func() map[string]encap.TunnelFamily {
	m := map[string]encap.TunnelFamily{
		"openvpn": {Name: "openvpn", Specs: []string{"openvpn", "openvpn(cbc-sha1)", "openvpn(cbc-sha256)", "openvpn(tcp)"}},
	}
	for _, f := range encap.TunnelFamilies {
		m[f.Name] = f
	}
	return m
}()

// TunnelTypes lists the names Tunnel accepts: the types, then "mix" (every
// type pooled, each type with equal weight).
func TunnelTypes() []string {
	names := make([]string, 0, len(tunnelTypes)+1)
	for k := range tunnelTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return append(names, "mix")
}

// Tunnel is the distribution of the path MTU inside a tunnel of the given
// type on a link of linkMTU: every variant equally likely ("mix": every type
// equally likely, then its variants), each with its exact tunnel MTU and
// wire arithmetic from package encap. outer, when not nil, is the stack the
// tunnel itself rides on (e.g. pppoe).
func Tunnel(name string, linkMTU int, outer *encap.Stack, f encap.Family) (Dist, error) {
	if name == "mix" {
		var d Dist
		for _, k := range TunnelTypes() {
			if k == "mix" {
				continue
			}
			td, err := Tunnel(k, linkMTU, outer, f)
			if err != nil {
				continue
			}
			for _, s := range td {
				s.Prob /= float64(len(tunnelTypes))
				d = append(d, s)
			}
		}
		if len(d) == 0 {
			return nil, fmt.Errorf("no tunnel variant carries %s on a %d-byte link", f, linkMTU)
		}
		return d.Normalize()
	}
	t, ok := tunnelTypes[name]
	if !ok {
		return nil, fmt.Errorf("tunnel type %q: want one of %s", name, strings.Join(TunnelTypes(), ", "))
	}
	vs, err := t.Variants(linkMTU, outer, f)
	if err != nil {
		return nil, err
	}
	var d Dist
	for _, v := range vs {
		d = append(d, Scenario{Prob: 1, PathMTU: v.PathMTU, Stack: v.Stack, Label: v.Stack.String()})
	}
	return d.Normalize()
}
