package sim

import (
	"testing"

	"github.com/mtukit/mtukit/plpmtud"
)

// BenchmarkMonteCarlo: simulated probe events per second on one core (one
// worker), tunnel mix, 1% loss, ICMP half delivered.
func BenchmarkMonteCarlo(b *testing.B) {
	mix, _ := TunnelDist("mix")
	for _, name := range plpmtud.Names() {
		b.Run(name, func(b *testing.B) {
			sc := Scenario{Strategy: name, Config: cfg(), Path: Path{Loss: 0.01, ICMP: 0.5}, PMTU: mix}
			b.ReportAllocs()
			var events int64
			for b.Loop() {
				r, err := MonteCarlo(ctx, sc, Options{Trials: 20000, Seed: 1, Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				events += r.Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "probes/s")
		})
	}
}

// BenchmarkExactTable: the exact mode's full table, every strategy on every
// tunnel family and the mix, at 1% loss: what `mtukit sim --exact
// --tunnel all --loss 0.01` computes.
func BenchmarkExactTable(b *testing.B) {
	var dists []Dist
	for _, n := range TunnelNames() {
		d, _ := TunnelDist(n)
		dists = append(dists, d)
	}
	b.ReportAllocs()
	for b.Loop() {
		states := 0
		for _, d := range dists {
			for _, name := range plpmtud.Names() {
				r, err := Exact(ctx, Scenario{Strategy: name, Config: cfg(), Path: Path{Loss: 0.01}, PMTU: d}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				states += r.States
			}
		}
		b.ReportMetric(float64(states), "states")
	}
}
