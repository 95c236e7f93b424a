package sim

import (
	"fmt"
	"math"
	"strings"
)

// Recommendation is the best (strategy, step) for a tunnel family.
type Recommendation struct {
	Tunnel   string  `json:"tunnel"`
	Strategy string  `json:"strategy"`
	Step     int     `json:"step"`
	Goodput  float64 `json:"goodput"`
	Probes   float64 `json:"probes_mean"`
	Why      string  `json:"why"`
	// Tied lists, when the comparison cannot tell them apart, the rows
	// (strategy, or "strategy ΔS n" when a strategy ran with several
	// steps) whose goodput and probes do not differ significantly from
	// the best; Strategy is then the first of them in the input order, not
	// a winner. Empty when one row is better than every other.
	Tied []string `json:"tied,omitempty"`
	// BestLinearStep is the seed article's question: the ΔS that gives
	// linear search the highest expected goodput (0 when linear was not
	// simulated).
	BestLinearStep int `json:"best_linear_step,omitempty"`
}

// Margins below which a difference does not count, whatever its
// significance: a goodput difference of 1e-6 (0.0001 percentage points, a
// fraction of a byte of MTU), and none for probes.
const (
	goodputMargin = 1e-6
	probesMargin  = 0
	// zSignificant is the number of standard errors a Monte Carlo
	// difference must exceed (3: about 0.3% false calls per comparison,
	// for the dozen comparisons of a table).
	zSignificant = 3
)

// Recommend picks, for each tunnel, the row with the highest corrected
// goodput and, among the rows whose goodput is not worse than it, the one
// with the fewest mean probes. "Worse" and "fewer" mean by more than a
// margin (goodput 1e-6) and, for Monte Carlo rows, by more than 3 standard
// errors of the difference. Rows sampled with the same number of trials
// are compared trial by trial (paired differences, which run with the same
// seed share their sampled paths and losses: see MonteCarlo); others as
// independent estimates; exact rows have no error. When several rows
// remain that cannot be told apart, the recommendation lists them as tied
// rather than letting noise pick one.
func Recommend(rows []Summary) []Recommendation {
	by := map[string][]*Summary{}
	var tunnels []string
	for i := range rows {
		r := &rows[i]
		if _, ok := by[r.Tunnel]; !ok {
			tunnels = append(tunnels, r.Tunnel)
		}
		by[r.Tunnel] = append(by[r.Tunnel], r)
	}
	var out []Recommendation
	for _, t := range tunnels {
		rs := by[t]
		steps := map[string]int{}
		for _, r := range rs {
			steps[r.Strategy]++
		}
		label := func(r *Summary) string {
			if steps[r.Strategy] > 1 {
				return fmt.Sprintf("%s ΔS %d", r.Strategy, r.Step)
			}
			return r.Strategy
		}
		best := rs[0]
		for _, r := range rs {
			if r.Goodput > best.Goodput {
				best = r
			}
		}
		// The rows whose goodput is not significantly below the best's.
		var good []*Summary
		for _, r := range rs {
			d, se := compare(best, r, goodputOf, func(s *Summary) (float64, float64) { return s.Goodput, s.GoodputSE })
			if !(d-zSignificant*se > goodputMargin) {
				good = append(good, r)
			}
		}
		// The fewest probes among them, and the rows not significantly
		// above it.
		w := good[0]
		for _, r := range good {
			if r.ProbesMean < w.ProbesMean {
				w = r
			}
		}
		var tied []*Summary
		for _, r := range good {
			d, se := compare(r, w, probesOf, func(s *Summary) (float64, float64) { return s.ProbesMean, s.ProbesSE })
			if !(d-zSignificant*se > probesMargin) {
				tied = append(tied, r)
			}
		}
		pick := tied[0] // the first in input order, not the noisiest
		rec := Recommendation{Tunnel: t, Strategy: pick.Strategy, Step: pick.Step, Goodput: pick.Goodput, Probes: pick.ProbesMean}
		rec.Why = fmt.Sprintf("highest expected goodput (%.2f%% of the wire, %.2f%% at the true MTU)", 100*pick.Goodput, 100*pick.GoodputOptimal)
		switch {
		case len(tied) > 1:
			var names []string
			for _, r := range tied {
				names = append(names, label(r))
			}
			rec.Tied = names
			rec.Why = fmt.Sprintf("tied: %s: their differences in expected goodput and probes are not significant", strings.Join(names, ", "))
		case len(good) > 1:
			rec.Why += fmt.Sprintf(", fewest probes among the %d tied", len(good))
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

func goodputOf(o Outcome) float64 {
	if o.Est > o.True {
		return 0
	}
	return Efficiency(o.Est)
}

func probesOf(o Outcome) float64 { return float64(o.Probes) }

// compare is the difference of a metric between rows a and b and its
// standard error: the printed means' difference, with the error of the
// mean of the trial-by-trial differences when both rows kept the outcomes
// of the same number of trials, else of two independent estimates (an
// exact row has none).
func compare(a, b *Summary, f func(Outcome) float64, mean func(*Summary) (m, se float64)) (d, se float64) {
	ma, sa := mean(a)
	mb, sb := mean(b)
	d = ma - mb
	if a == b {
		return 0, 0
	}
	if n := len(a.samples); n > 1 && n == len(b.samples) {
		var sum, sq float64
		for i := range a.samples {
			x := f(unpack(a.samples[i])) - f(unpack(b.samples[i]))
			sum += x
			sq += x * x
		}
		m := sum / float64(n)
		v := (sq - float64(n)*m*m) / float64(n-1)
		return d, math.Sqrt(max(v, 0) / float64(n))
	}
	if a.Exact {
		sa = 0
	}
	if b.Exact {
		sb = 0
	}
	return d, math.Hypot(sa, sb)
}
