package sim

import (
	"math"
	"testing"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/tput"
)

// The simulator and tput draw a tunnel family's path MTUs from one source
// (encap.TunnelFamily.Variants): for the same family, on the simulator's
// 1500-byte link with IPv4, they give the same MTUs with the same weights,
// and each MTU is calc's tunnel MTU of one of the family's stacks.
func TestTunnelDistMatchesTput(t *testing.T) {
	for _, f := range encap.TunnelFamilies {
		t.Run(f.Name, func(t *testing.T) {
			sd, err := TunnelDist(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			td, err := tput.Tunnel(f.Name, 1500, nil, encap.IPv4)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]float64{}
			for _, s := range td {
				want[s.PathMTU] += s.Prob
				m, err := encap.MustParse(s.Label).TunnelMTU(1500)
				if err != nil || m != s.PathMTU {
					t.Errorf("%s: tput says %d, encap's tunnel MTU is %d (%v)", s.Label, s.PathMTU, m, err)
				}
			}
			got := map[int]float64{}
			for _, p := range sd {
				got[p.PMTU] += p.P
			}
			if len(got) != len(want) {
				t.Fatalf("sim MTUs %v, tput %v", got, want)
			}
			for m, p := range want {
				if math.Abs(got[m]-p) > 1e-12 {
					t.Errorf("MTU %d: sim weight %g, tput %g", m, got[m], p)
				}
			}
		})
	}
}
