package sim

import (
	"fmt"
	"sort"
)

// Recommendation is the best (strategy, step) for a tunnel family.
type Recommendation struct {
	Tunnel   string  `json:"tunnel"`
	Strategy string  `json:"strategy"`
	Step     int     `json:"step"`
	Goodput  float64 `json:"goodput"`
	Probes   float64 `json:"probes_mean"`
	Why      string  `json:"why"`
	// BestLinearStep is the seed article's question: the ΔS that gives
	// linear search the highest expected goodput (0 when linear was not
	// simulated).
	BestLinearStep int `json:"best_linear_step,omitempty"`
}

// Recommend picks, for each tunnel, the result with the highest corrected
// goodput; results within 0.0001 percentage points of it (a fraction of a byte of MTU) count as equal and
// the one with the fewest mean probes wins among them.
func Recommend(rows []Summary) []Recommendation {
	by := map[string][]Summary{}
	var tunnels []string
	for _, r := range rows {
		if _, ok := by[r.Tunnel]; !ok {
			tunnels = append(tunnels, r.Tunnel)
		}
		by[r.Tunnel] = append(by[r.Tunnel], r)
	}
	var out []Recommendation
	for _, t := range tunnels {
		rs := by[t]
		best := 0.0
		for _, r := range rs {
			best = max(best, r.Goodput)
		}
		var tied []Summary
		for _, r := range rs {
			if r.Goodput >= best-1e-6 {
				tied = append(tied, r)
			}
		}
		sort.SliceStable(tied, func(i, j int) bool { return tied[i].ProbesMean < tied[j].ProbesMean })
		w := tied[0]
		rec := Recommendation{Tunnel: t, Strategy: w.Strategy, Step: w.Step, Goodput: w.Goodput, Probes: w.ProbesMean}
		rec.Why = fmt.Sprintf("highest expected goodput (%.2f%% of the wire, %.2f%% at the true MTU)", 100*w.Goodput, 100*w.GoodputOptimal)
		if len(tied) > 1 {
			rec.Why += fmt.Sprintf(", fewest probes among the %d tied", len(tied))
		}
		lin := -1.0
		for _, r := range rs {
			if r.Strategy == "linear" && r.Goodput > lin {
				lin, rec.BestLinearStep = r.Goodput, r.Step
			}
		}
		out = append(out, rec)
	}
	return out
}
