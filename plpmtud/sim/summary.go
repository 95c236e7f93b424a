package sim

import (
	"math"
	"sort"
	"time"
)

// Goodput constants: TCP over IPv4 on Ethernet. A packet of IP size M
// carries M-40 bytes of TCP payload (IPv4 20 + TCP 20) and takes M+38
// bytes of wire time (Ethernet header 14, FCS 4, preamble 8, inter-frame
// gap 12).
const (
	TransportOverhead = 40
	WireOverhead      = 38
	// seedHeader is the seed formula's "header", which it adds to an MTU
	// that already contains the IP header; read as the same 40 bytes.
	seedHeader = 40
)

// Efficiency is the share of the wire that carries TCP payload with
// packets of IP size m.
func Efficiency(m int) float64 {
	return float64(m-TransportOverhead) / float64(m+WireOverhead)
}

// SeedGoodput is the seed article's formula, G = (M - transport_overhead) /
// (M + header) x (1 - p_loss x overshoot_packets), with overshoot_packets
// the packets per million dropped because M exceeds the path MTU (all of
// them, 10^6, when it does). It is wrong twice: M already includes the IP
// header, and an overshoot is weighted by the loss rate, so on a loss-free
// path a black-holed MTU scores full goodput while with any loss the value
// goes hugely negative. Efficiency with zero goodput on overshoot is the
// corrected form.
func SeedGoodput(m int, overshoot bool, loss float64) float64 {
	g := float64(m-TransportOverhead) / float64(m+seedHeader)
	if overshoot {
		g *= 1 - loss*1e6
	}
	return g
}

// SeedLatency is the seed's closed-form discovery latency, L = log2(PMTU /
// S0) x RTT x (1 + p x retry). It grows with the ratio PMTU/S0, while a
// bisection's probe count depends on the number of candidate sizes and the
// precision: log2((Max-Min)/ΔS). Printed beside the simulation so users
// see where it holds (nowhere near, for a 1200-1500 search).
func SeedLatency(pmtu, s0 int, rtt time.Duration, loss, retry float64) time.Duration {
	return time.Duration(math.Log2(float64(pmtu)/float64(s0)) * float64(rtt) * (1 + loss*retry))
}

// Summary is the table row of a result.
type Summary struct {
	Strategy string `json:"strategy"`
	Step     int    `json:"step"`
	Tunnel   string `json:"tunnel"`
	Exact    bool   `json:"exact"`
	Trials   int    `json:"trials,omitempty"`

	ProbesMean float64 `json:"probes_mean"`
	ProbesP95  int     `json:"probes_p95"`
	// ProbesSE is the Monte Carlo standard error of ProbesMean.
	ProbesSE    float64 `json:"probes_se,omitempty"`
	RoundsMean  float64 `json:"rounds_mean"`
	TimeMeanMS  float64 `json:"time_mean_ms"`
	TimeP95MS   float64 `json:"time_p95_ms"`
	TimeMeanRTT float64 `json:"time_mean_rtt"`
	TimeP95RTT  float64 `json:"time_p95_rtt"`

	DiscoveredMean float64 `json:"discovered_mean"`
	DiscoveredP5   int     `json:"discovered_p5"`
	TrueMean       float64 `json:"true_mean"`
	// ErrorMean is E[true - discovered] in bytes (negative: overshoot).
	ErrorMean float64 `json:"error_mean"`
	ErrorP95  int     `json:"error_p95"`
	PExact    float64 `json:"p_exact"`
	// PSubOptimal is P(discovered < true - Threshold).
	PSubOptimal float64 `json:"p_suboptimal"`
	Threshold   int     `json:"suboptimal_threshold"`
	// POvershoot is P(discovered > true): a hard failure.
	POvershoot float64 `json:"p_overshoot"`
	// PCapped is the probability that the simulator had to stop a search
	// (a strategy that stalls or runs past the simulator's 1000 probes).
	PCapped float64 `json:"p_capped"`

	// Goodput is the corrected expected efficiency (Efficiency of the
	// discovered MTU, 0 when it overshoots); GoodputOptimal the same at
	// the true MTU; GoodputSeed the seed's formula.
	Goodput float64 `json:"goodput"`
	// GoodputSE is the Monte Carlo standard error of Goodput.
	GoodputSE      float64 `json:"goodput_se,omitempty"`
	GoodputOptimal float64 `json:"goodput_optimal"`
	GoodputSeed    float64 `json:"goodput_seed"`
	// SeedLatencyMS is the seed's closed form for the same path.
	SeedLatencyMS float64 `json:"seed_latency_ms"`

	// samples are the Monte Carlo outcomes in trial order (nil for an
	// exact result), for Recommend's paired comparisons.
	samples []uint64
}

// SummaryOptions are the knobs of Summarize.
type SummaryOptions struct {
	Tunnel    string
	Step      int
	Threshold int     // sub-optimal threshold in bytes (0: 64)
	Retry     float64 // the seed's retry_factor (0: 1)
}

// Summarize computes the metrics of a result.
func Summarize(r *Result, o SummaryOptions) Summary {
	if o.Threshold == 0 {
		o.Threshold = 64
	}
	if o.Retry == 0 {
		o.Retry = 1
	}
	s := Summary{Strategy: r.Strategy, Step: o.Step, Tunnel: o.Tunnel, Exact: r.Exact, Trials: r.Trials, Threshold: o.Threshold, samples: r.samples}
	ws := r.Outcomes()
	fast, slow := r.roundTime(false), r.roundTime(true)
	var probes, tms, est, errs []valueP
	var sq, gsq float64
	for _, w := range ws {
		t := time.Duration(w.Rounds-w.Slow)*fast + time.Duration(w.Slow)*slow
		ms := float64(t) / float64(time.Millisecond)
		s.ProbesMean += w.P * float64(w.Probes)
		sq += w.P * float64(w.Probes) * float64(w.Probes)
		s.RoundsMean += w.P * float64(w.Rounds)
		s.TimeMeanMS += w.P * ms
		s.DiscoveredMean += w.P * float64(w.Est)
		s.TrueMean += w.P * float64(w.True)
		d := w.True - w.Est
		s.ErrorMean += w.P * float64(d)
		over := w.Est > w.True
		switch {
		case over:
			s.POvershoot += w.P
		case d == 0:
			s.PExact += w.P
		case d > o.Threshold:
			s.PSubOptimal += w.P
		}
		if w.Capped {
			s.PCapped += w.P
		}
		if !over {
			g := Efficiency(w.Est)
			s.Goodput += w.P * g
			gsq += w.P * g * g
		}
		s.GoodputOptimal += w.P * Efficiency(w.True)
		s.GoodputSeed += w.P * SeedGoodput(w.Est, over, r.Path.Loss)
		s.SeedLatencyMS += w.P * float64(SeedLatency(w.True, r.Config.Min, r.RTT, r.Path.Loss, o.Retry)) / float64(time.Millisecond)
		probes = append(probes, valueP{float64(w.Probes), w.P})
		tms = append(tms, valueP{ms, w.P})
		est = append(est, valueP{float64(w.Est), w.P})
		errs = append(errs, valueP{float64(d), w.P})
	}
	s.ProbesP95 = int(quantile(probes, 0.95))
	s.TimeP95MS = quantile(tms, 0.95)
	s.DiscoveredP5 = int(quantile(est, 0.05))
	s.ErrorP95 = int(quantile(errs, 0.95))
	rtt := float64(r.RTT) / float64(time.Millisecond)
	s.TimeMeanRTT, s.TimeP95RTT = s.TimeMeanMS/rtt, s.TimeP95MS/rtt
	if !r.Exact && r.Trials > 1 {
		v := sq - s.ProbesMean*s.ProbesMean
		s.ProbesSE = math.Sqrt(max(v, 0) / float64(r.Trials))
		v = gsq - s.Goodput*s.Goodput
		s.GoodputSE = math.Sqrt(max(v, 0) / float64(r.Trials))
	}
	return s
}

func (r *Result) roundTime(slow bool) time.Duration {
	t := r.RTT
	if slow {
		t = r.PTO
	}
	return max(t, r.Gap)
}

type valueP struct{ v, p float64 }

// quantile is the smallest value whose cumulative probability reaches q.
func quantile(xs []valueP, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].v < xs[j].v })
	total := 0.0
	for _, x := range xs {
		total += x.p
	}
	acc := 0.0
	for _, x := range xs {
		acc += x.p
		if acc >= q*total-1e-12 {
			return x.v
		}
	}
	return xs[len(xs)-1].v
}

// CDF is the distribution function of the number of probes: CDF[k] is
// P(probes <= k).
func (r *Result) CDF() []float64 {
	maxP := 0
	for k := range r.dist {
		maxP = max(maxP, unpack(k).Probes)
	}
	c := make([]float64, maxP+1)
	for k, v := range r.dist {
		c[unpack(k).Probes] += v
	}
	for i := 1; i < len(c); i++ {
		c[i] += c[i-1]
	}
	return c
}

// Discovered is the distribution of the discovered MTU.
func (r *Result) Discovered() Dist {
	w := map[int]float64{}
	for k, v := range r.dist {
		w[unpack(k).Est] += v
	}
	d := make(Dist, 0, len(w))
	for m, p := range w {
		d = append(d, Point{m, p})
	}
	sort.Slice(d, func(i, j int) bool { return d[i].PMTU < d[j].PMTU })
	return d
}
