package plpmtud

import (
	"fmt"
	"sort"
	"sync"

	"github.com/mtukit/mtukit/encap"
)

// Plateau is a path MTU that real paths often have, with a relative weight
// and the reason it is common.
type Plateau struct {
	MTU    int
	Weight float64
	Why    string
}

// plateauStacks are the encapsulations whose tunnel MTU on a 1500-byte
// link makes a plateau; the MTU comes from package encap, not from a table.
var plateauStacks = []string{
	"pppoe",
	"gre", "gre(key)", "gre(ipv6)", "ipip", "ip6tnl",
	"vxlan", "vxlan(ipv6)", "geneve",
	"wireguard", "wireguard(ipv6)", "openvpn",
	"esp", "esp(aes-gcm-16,nat-t)", "esp(aes-cbc,sha1)", "esp(aes-cbc,sha256,nat-t)", "esp(aes-gcm-16,ipv6)",
	"gtpu", "gtpu(5g)",
	"mpls", "mpls(labels=2)", "mpls(labels=3)",
	"pppoe/gre", "pppoe/wireguard", "pppoe/esp", "pppoe/vxlan",
}

// Fixed plateaus that no encapsulation explains: link MTUs and values
// administrators configure (the common clamps of pmtud.md).
var plateauFixed = []Plateau{
	{1500, 8, "Ethernet"},
	{9000, 2, "jumbo frames"},
	{1280, 1, "IPv6 minimum MTU (RFC 8200)"},
	{1460, 1, "common configured MTU"},
	{1400, 1, "common configured MTU"},
	{1380, 1, "common configured MTU"},
	{576, 0.5, "IPv4 minimum reassembly size (RFC 791)"},
}

var (
	defaultPlateausOnce sync.Once
	defaultPlateaus     []Plateau
)

// DefaultPlateaus is mtukit's prior over path MTUs: the fixed plateaus
// above plus the tunnel MTU, from package encap, of each stack in
// plateauStacks on a 1500-byte link (weight 1 each; stacks that share an
// MTU add up). It is sorted by MTU.
func DefaultPlateaus() []Plateau {
	defaultPlateausOnce.Do(func() {
		w := map[int]float64{}
		why := map[int]string{}
		for _, p := range plateauFixed {
			w[p.MTU] += p.Weight
			why[p.MTU] = p.Why
		}
		for _, spec := range plateauStacks {
			mtu, err := encap.MustParse(spec).TunnelMTU(1500)
			if err != nil {
				panic(fmt.Sprintf("plpmtud: plateau stack %q: %v", spec, err))
			}
			w[mtu]++
			if why[mtu] == "" {
				why[mtu] = spec + " on 1500"
			} else {
				why[mtu] += ", " + spec + " on 1500"
			}
		}
		for m, x := range w {
			defaultPlateaus = append(defaultPlateaus, Plateau{MTU: m, Weight: x, Why: why[m]})
		}
		sort.Slice(defaultPlateaus, func(i, j int) bool { return defaultPlateaus[i].MTU < defaultPlateaus[j].MTU })
	})
	return append([]Plateau(nil), defaultPlateaus...)
}

// prior is a probability distribution over the path MTU in [min, max]: a
// uniform background plus point masses at the plateaus. It answers "how
// much mass lies in [min, x)" in O(log plateaus).
type prior struct {
	min, max int
	bg       float64   // background mass of each size
	pts      []int     // plateau sizes in [min, max], ascending
	cum      []float64 // cum[i]: plateau mass of pts[:i]
	// table[x-min] is below(x) for x in [min, max+1]: the hot path of the
	// mtukit strategy reads it instead of searching pts.
	table []float64
}

// newPrior spreads background over [min, max] uniformly and 1-background
// over the plateaus in range in proportion to their weights.
func newPrior(min, max int, plateaus []Plateau, background float64) *prior {
	p := &prior{min: min, max: max}
	total := 0.0
	w := map[int]float64{}
	for _, pl := range plateaus {
		if pl.MTU >= min && pl.MTU <= max && pl.Weight > 0 {
			w[pl.MTU] += pl.Weight
			total += pl.Weight
		}
	}
	if total == 0 {
		background = 1
	}
	p.bg = background / float64(max-min+1)
	for m := range w {
		p.pts = append(p.pts, m)
	}
	sort.Ints(p.pts)
	p.cum = make([]float64, len(p.pts)+1)
	for i, m := range p.pts {
		p.cum[i+1] = p.cum[i] + (1-background)*w[m]/total
	}
	p.table = make([]float64, max-min+2)
	for x := min; x <= max+1; x++ {
		p.table[x-min] = p.search(x)
	}
	return p
}

// below is the prior mass of sizes in [min, x).
func (p *prior) below(x int) float64 {
	if x <= p.min {
		return 0
	}
	if x > p.max+1 {
		x = p.max + 1
	}
	return p.table[x-p.min]
}

// search computes below(x) for min < x <= max+1 from the plateaus.
func (p *prior) search(x int) float64 {
	if x <= p.min {
		return 0
	}
	// Number of plateaus below x.
	lo, hi := 0, len(p.pts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.pts[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return p.bg*float64(x-p.min) + p.cum[lo]
}

// at is the prior mass of the single size x.
func (p *prior) at(x int) float64 { return p.below(x+1) - p.below(x) }
