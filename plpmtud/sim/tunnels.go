package sim

import (
	"fmt"
	"sort"

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
	return nil, fmt.Errorf("unknown tunnel %q (known: %v)", name, TunnelNames())
}

// Dist is the family's path MTU distribution.
func (t Tunnel) Dist() (Dist, error) {
	var d Dist
	for _, spec := range t.Stacks {
		st, err := encap.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		m, err := st.TunnelMTU(t.LinkMTU)
		if err != nil {
			return nil, fmt.Errorf("tunnel %s: %s: %w", t.Name, spec, err)
		}
		d = append(d, Point{m, 1})
	}
	return d.normalize()
}

// TunnelStacks maps each tunnel MTU of a family to the stacks that give it,
// for reports.
func (t Tunnel) TunnelStacks() map[int][]string {
	out := map[int][]string{}
	for _, spec := range t.Stacks {
		if m, err := encap.MustParse(spec).TunnelMTU(t.LinkMTU); err == nil {
			out[m] = append(out[m], spec)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}
