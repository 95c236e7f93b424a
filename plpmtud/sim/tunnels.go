package sim

import (
	"fmt"
	"strings"

	"github.com/mtukit/mtukit/encap"
)

// Tunnel is a family of encapsulations. Its path MTU distribution gives
// each stack equal weight and takes the tunnel MTU from package encap on a
// link of LinkMTU: real overheads, not a table.
type Tunnel struct {
	Name    string
	Summary string
	Stacks  []string
	LinkMTU int
}

// Tunnels are encap's tunnel families (the seed article's, plus
// WireGuard), each on a 1500-byte link.
var Tunnels = func() []Tunnel {
	var out []Tunnel
	for _, f := range encap.TunnelFamilies {
		out = append(out, Tunnel{Name: f.Name, Summary: f.Summary, Stacks: f.Specs, LinkMTU: 1500})
	}
	return out
}()

// TunnelNames lists the tunnel families, then "mix" (all of them pooled,
// each family with equal weight).
func TunnelNames() []string {
	var n []string
	for _, t := range Tunnels {
		n = append(n, t.Name)
	}
	return append(n, "mix")
}

// TunnelDist is the path MTU distribution of the named tunnel family.
func TunnelDist(name string) (Dist, error) {
	if name == "mix" {
		var d Dist
		for _, t := range Tunnels {
			td, err := t.Dist()
			if err != nil {
				return nil, err
			}
			for _, p := range td {
				d = append(d, Point{p.PMTU, p.P / float64(len(Tunnels))})
			}
		}
		return d.normalize()
	}
	for _, t := range Tunnels {
		if t.Name == name {
			return t.Dist()
		}
	}
	return nil, fmt.Errorf("unknown tunnel %q (known: %s)", name, strings.Join(TunnelNames(), ", "))
}

// Dist is the family's path MTU distribution, for IPv4 on the link itself
// (encap.TunnelFamily.Variants, as package tput's).
func (t Tunnel) Dist() (Dist, error) {
	vs, err := encap.TunnelFamily{Name: t.Name, Specs: t.Stacks}.Variants(t.LinkMTU, nil, encap.IPv4)
	if err != nil {
		return nil, err
	}
	var d Dist
	for _, v := range vs {
		d = append(d, Point{v.PathMTU, 1})
	}
	return d.normalize()
}
