package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/plpmtud/sim/simchart"
)

type simOptions struct {
	strategy, step, tunnel, pmtu, plot                                                    string
	min, max, maxProbes, parallel, threshold, forgeMTU, changeAfter, changeTo, ptbConfirm int
	loss, ber, icmp, forge, frag, epsilon, lossPrior, retry                               float64
	rtt, pto                                                                              time.Duration
	trials, workers                                                                       int
	seed                                                                                  uint64
	exact, json                                                                           bool
}

// seedSteps are the ΔS values the seed article compares.
var seedSteps = []int{16, 32, 64, 128, 256}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &simOptions{}
		c := &cobra.Command{
			Use:   "sim",
			Short: "Simulate path MTU searches (PLPMTUD strategies, real stacks' algorithms, mtukit's) on lossy paths",
			Long: `sim runs path MTU search strategies on a modelled path and tables how many
probes and how long they take, what they find, how often they end more than
--threshold bytes short (sub-optimal) or above the path MTU (a hard failure),
and the goodput that results.

The path MTU is fixed (--pmtu N, or uniform over --pmtu LO:HI) or drawn from a
tunnel family (--tunnel): every variant of the family equally likely, its MTU
computed from the real header overheads (as mtukit calc does). Probes that fit
are lost with probability --loss (plus --ber per byte); probes too big are
dropped and answered by a Packet Too Big with probability --icmp (0, the
default, is an ICMP black hole); --forge answers that share of probes with a
forged PTB reporting --forge-mtu; --change-after N --change-to M changes the
path MTU after N probes.

By default each row is a Monte Carlo run (--trials, --seed: the same seed gives
the same numbers whatever --workers); --exact computes the probabilities with
no sampling (probability propagated through every sequence of outcomes; rows
whose state space is too large fall back to Monte Carlo and say so).

Strategies: mtukit (the default search), the seed article's linear, binary and
hybrid, RFC 8899's state machine (rfc8899), and models of Linux TCP, quic-go,
quiche, msquic, Linux SCTP and FreeBSD SCTP. --step sets ΔS for the first five
("seed" is the seed article's 16,32,64,128,256); the models keep their own.

The table also prints the seed article's closed-form latency
L = log2(PMTU/S0) x RTT x (1 + p x retry) and its goodput formula beside the
simulated time and the corrected goodput, so it shows where they fail.`,
			Example: `  mtukit sim
  mtukit sim --exact --loss 0.01
  mtukit sim --strategy linear,binary,hybrid --step seed --tunnel all --loss 0.02
  mtukit sim --strategy quic-go --pmtu 1200:1499 --exact
  mtukit sim --strategy mtukit,rfc8899 --icmp 1 --forge 0.1 --json
  mtukit sim --strategy mtukit --parallel 3 --tunnel ipsec --plot ipsec.svg`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runSim(env, o) },
		}
		f := c.Flags()
		f.StringVar(&o.strategy, "strategy", "all", "strategy name, a comma-separated list, or all ("+strings.Join(plpmtud.Names(), ", ")+")")
		f.StringVar(&o.step, "step", "", "ΔS in bytes for linear, binary, hybrid, rfc8899 and mtukit: one value, a list, or seed (16,32,64,128,256); default: each strategy's own")
		f.StringVar(&o.tunnel, "tunnel", "mix", "tunnel family for the path MTU: "+strings.Join(sim.TunnelNames(), ", ")+", or all")
		f.StringVar(&o.pmtu, "pmtu", "", "a fixed true path MTU N, or LO:HI for every MTU in the range equally likely (instead of --tunnel)")
		f.IntVar(&o.min, "min", 1200, "smallest size, known to work (BASE_PLPMTU)")
		f.IntVar(&o.max, "max", 1500, "largest size worth probing")
		f.Float64Var(&o.loss, "loss", 0, "probability that a probe which fits is lost")
		f.Float64Var(&o.ber, "ber", 0, "size-dependent loss: per-byte error rate (a probe of s bytes is lost with 1-(1-ber)^s)")
		f.Float64Var(&o.icmp, "icmp", 0, "probability that a too-big probe is answered by a PTB (0: black hole)")
		f.Float64Var(&o.forge, "forge", 0, "share of probes answered by a forged PTB that quotes them correctly")
		f.IntVar(&o.forgeMTU, "forge-mtu", 0, "the MTU forged PTBs report (default --min)")
		f.Float64Var(&o.frag, "frag", 0, "probability that a packet sent without DF comes back in fragments (IPv4 routers; mtukit then gets a hint, as from mtukit probe)")
		f.IntVar(&o.changeAfter, "change-after", 0, "change the path MTU after this many probes (0: never)")
		f.IntVar(&o.changeTo, "change-to", 0, "the path MTU after --change-after")
		f.DurationVar(&o.rtt, "rtt", sim.DefaultRTT, "round-trip time")
		f.DurationVar(&o.pto, "pto", 0, "probe timeout (default 3 x rtt)")
		f.IntVar(&o.maxProbes, "max-probes", 0, "tries per size before it counts as too big (MAX_PROBES; default: each strategy's own)")
		f.IntVar(&o.parallel, "parallel", 0, "probes per round for mtukit (1-8)")
		f.Float64Var(&o.epsilon, "epsilon", 0, "mtukit's stopping risk (default 0.01)")
		f.Float64Var(&o.lossPrior, "loss-prior", 0, "the loss rate mtukit assumes (default 0.05)")
		f.IntVar(&o.ptbConfirm, "ptb-confirm", 0, "valid PTBs reporting the same MTU before mtukit takes it as an upper bound (default 1; 2 resists a lone forged PTB)")
		f.IntVar(&o.threshold, "threshold", 64, "a result more than this many bytes below the path MTU is sub-optimal")
		f.Float64Var(&o.retry, "retry-factor", 1, "retry_factor in the seed's latency formula")
		f.IntVar(&o.trials, "trials", 20000, "Monte Carlo searches per row")
		f.Uint64Var(&o.seed, "seed", 1, "Monte Carlo seed")
		f.IntVar(&o.workers, "workers", 0, "worker goroutines (default: GOMAXPROCS)")
		f.BoolVar(&o.exact, "exact", false, "compute exact probabilities instead of sampling")
		f.BoolVar(&o.json, "json", false, "print JSON")
		f.StringVar(&o.plot, "plot", "", "write the CDF of probes and the histogram of the discovered MTU to this SVG file")
		return c
	})
}

// SimReport is what mtukit sim prints.
type SimReport struct {
	Params          SimParams            `json:"params"`
	Results         []sim.Summary        `json:"results"`
	Recommendations []sim.Recommendation `json:"recommendations"`
	Notes           []string             `json:"notes"`
	PlotFile        string               `json:"plot,omitempty"`
}

// SimParams echoes the inputs.
type SimParams struct {
	Min, Max    int     `json:"-"`
	Range       [2]int  `json:"range"`
	Loss        float64 `json:"loss"`
	BER         float64 `json:"ber,omitempty"`
	ICMP        float64 `json:"icmp"`
	Forge       float64 `json:"forge,omitempty"`
	Frag        float64 `json:"frag,omitempty"`
	ForgeMTU    int     `json:"forge_mtu,omitempty"`
	ChangeAfter int     `json:"change_after,omitempty"`
	ChangeTo    int     `json:"change_to,omitempty"`
	RTTms       float64 `json:"rtt_ms"`
	PTOms       float64 `json:"pto_ms"`
	Exact       bool    `json:"exact"`
	Trials      int     `json:"trials,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
	Threshold   int     `json:"suboptimal_threshold"`
	RetryFactor float64 `json:"seed_retry_factor"`
}

type simRun struct {
	tunnel string
	dist   sim.Dist
	name   string
	step   int // 0: the strategy's own
}

func runSim(env *Env, o *simOptions) error {
	names, err := simStrategies(o.strategy)
	if err != nil {
		return err
	}
	steps, err := simSteps(o.step)
	if err != nil {
		return err
	}
	dists, err := simDists(o)
	if err != nil {
		return err
	}
	if o.trials <= 0 || o.trials > 100_000_000 {
		return usagef("--trials %d out of range [1, 100000000]", o.trials)
	}
	if o.workers < 0 || o.workers > 1024 {
		return usagef("--workers %d out of range [0, 1024]", o.workers)
	}
	if o.threshold < 0 {
		return usagef("--threshold %d must not be negative", o.threshold)
	}
	if !(o.retry >= 0) || math.IsInf(o.retry, 0) {
		return usagef("--retry-factor %g must be a non-negative number", o.retry)
	}
	if (o.changeAfter > 0) != (o.changeTo > 0) {
		return usagef("--change-after and --change-to go together")
	}
	path := sim.Path{Loss: o.loss, BER: o.ber, ICMP: o.icmp, Forge: o.forge, ForgeMTU: o.forgeMTU, Frag: o.frag, RTT: o.rtt, PTO: o.pto, ChangeAfter: o.changeAfter, ChangeTo: o.changeTo}
	if o.rtt <= 0 {
		return usagef("--rtt %s must be positive", o.rtt)
	}
	var runs []simRun
	for _, d := range dists {
		for _, n := range names {
			info, _ := plpmtud.Lookup(n)
			if info.Model || len(steps) == 0 {
				runs = append(runs, simRun{d.name, d.dist, n, 0})
				continue
			}
			for _, st := range steps {
				runs = append(runs, simRun{d.name, d.dist, n, st})
			}
		}
	}
	if o.plot != "" && len(runs) > 16 {
		return usagef("--plot: %d curves is too many for one chart (at most 16): choose fewer strategies, steps or tunnels", len(runs))
	}

	rep := &SimReport{}
	rep.Params = SimParams{Range: [2]int{o.min, o.max}, Loss: o.loss, BER: o.ber, ICMP: o.icmp, Forge: o.forge, Frag: o.frag, ChangeAfter: o.changeAfter, ChangeTo: o.changeTo,
		RTTms: simMS(o.rtt), Exact: o.exact, Threshold: o.threshold, RetryFactor: o.retry}
	if o.forge > 0 {
		rep.Params.ForgeMTU = o.forgeMTU
		if o.forgeMTU == 0 {
			rep.Params.ForgeMTU = o.min
		}
	}
	if o.pto > 0 {
		rep.Params.PTOms = simMS(o.pto)
	} else {
		rep.Params.PTOms = simMS(3 * o.rtt)
	}
	if !o.exact {
		rep.Params.Trials, rep.Params.Seed = o.trials, o.seed
	}

	prog := newSimProgress(env.Stderr, len(runs))
	defer prog.stop()
	var series []simchart.Series
	fellBack := 0
	for i, r := range runs {
		c := plpmtud.Config{Min: o.min, Max: o.max, Step: r.step, MaxProbes: o.maxProbes, Parallel: o.parallel, Epsilon: o.epsilon, LossPrior: o.lossPrior, PTBConfirm: o.ptbConfirm}
		sc := sim.Scenario{Strategy: r.name, Config: c, Path: path, PMTU: r.dist}
		opt := sim.Options{Trials: o.trials, Seed: o.seed, Workers: o.workers, Progress: prog.within(i)}
		var res *sim.Result
		if o.exact {
			res, err = sim.Exact(env.Ctx, sc, opt)
			if errors.Is(err, sim.ErrTooLarge) {
				fellBack++
				res, err = sim.MonteCarlo(env.Ctx, sc, opt)
			}
		} else {
			res, err = sim.MonteCarlo(env.Ctx, sc, opt)
		}
		if err != nil {
			if env.Ctx.Err() != nil {
				return err
			}
			return asUsage(err)
		}
		step := r.step
		if step == 0 {
			info, _ := plpmtud.Lookup(r.name)
			step = info.NativeStep
		}
		s := sim.Summarize(res, sim.SummaryOptions{Tunnel: r.tunnel, Step: step, Threshold: o.threshold, Retry: o.retry})
		rep.Results = append(rep.Results, roundSummary(s))
		label := r.name
		if r.step != 0 {
			label += fmt.Sprintf(" ΔS %d", r.step)
		}
		if len(dists) > 1 {
			label += " " + r.tunnel
		}
		series = append(series, simchart.Series{Label: label, Result: res})
		prog.done(i + 1)
	}
	prog.stop()
	rep.Recommendations = sim.Recommend(rep.Results)
	rep.Notes = simNotes(rep, fellBack)
	if o.plot != "" {
		var buf bytes.Buffer
		if err := simchart.SVG(&buf, simTitle(rep), series); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
		if err := os.WriteFile(o.plot, buf.Bytes(), 0o644); err != nil {
			return usagef("--plot: %v", err)
		}
		rep.PlotFile = o.plot
	}
	if o.json {
		return writeJSON(env.Stdout, rep)
	}
	return rep.WriteText(env.Stdout)
}

func simMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func simStrategies(s string) ([]string, error) {
	if s == "all" {
		return plpmtud.Names(), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if _, ok := plpmtud.Lookup(n); !ok {
			return nil, usagef("--strategy: unknown strategy %q (known: %s, or all)", n, strings.Join(plpmtud.Names(), ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func simSteps(s string) ([]int, error) {
	switch s {
	case "":
		return nil, nil
	case "seed":
		return seedSteps, nil
	}
	var out []int
	for i, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 || v > plpmtud.MaxSize {
			return nil, usagef("--step: item %d %q is not a step in bytes (1-%d)", i+1, f, plpmtud.MaxSize)
		}
		out = append(out, v)
	}
	return out, nil
}

type namedDist struct {
	name string
	dist sim.Dist
}

func simDists(o *simOptions) ([]namedDist, error) {
	if o.pmtu != "" {
		if o.tunnel != "mix" {
			return nil, usagef("--pmtu and --tunnel exclude each other")
		}
		lo, hi, isRange := strings.Cut(o.pmtu, ":")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < plpmtud.MinSize || a > plpmtud.MaxSize {
			return nil, usagef("--pmtu %q: want a path MTU in [%d, %d] or LO:HI", o.pmtu, plpmtud.MinSize, plpmtud.MaxSize)
		}
		if !isRange {
			return []namedDist{{fmt.Sprintf("pmtu %d", a), sim.Fixed(a)}}, nil
		}
		b, err := strconv.Atoi(strings.TrimSpace(hi))
		if err != nil || b < a || b > plpmtud.MaxSize {
			return nil, usagef("--pmtu %q: the range end must be a size in [%d, %d]", o.pmtu, a, plpmtud.MaxSize)
		}
		return []namedDist{{fmt.Sprintf("uniform %d-%d", a, b), sim.Uniform(a, b)}}, nil
	}
	names := []string{o.tunnel}
	if o.tunnel == "all" {
		names = sim.TunnelNames()
	}
	var out []namedDist
	for _, n := range names {
		d, err := sim.TunnelDist(n)
		if err != nil {
			return nil, usagef("--tunnel: %v", err)
		}
		out = append(out, namedDist{n, d})
	}
	return out, nil
}

// roundSummary rounds the floats so that the output does not show the last
// bits of floating-point sums, which depend on summation order.
func roundSummary(s sim.Summary) sim.Summary {
	r := func(x *float64, scale float64) { *x = math.Round(*x*scale) / scale }
	for _, x := range []*float64{&s.ProbesMean, &s.ProbesSE, &s.RoundsMean, &s.TimeMeanMS, &s.TimeP95MS, &s.TimeMeanRTT, &s.TimeP95RTT,
		&s.DiscoveredMean, &s.TrueMean, &s.ErrorMean, &s.SeedLatencyMS} {
		r(x, 1e6)
	}
	for _, x := range []*float64{&s.PExact, &s.PSubOptimal, &s.POvershoot, &s.PCapped, &s.Goodput, &s.GoodputOptimal, &s.GoodputSeed} {
		r(x, 1e9)
	}
	return s
}

func simNotes(rep *SimReport, fellBack int) []string {
	n := []string{
		"seed latency: L = log2(PMTU/S0) x RTT x (1 + p x retry) grows with the ratio of two sizes; a search's probe count grows with log2 of the number of candidate sizes over the precision, and each lost probe costs a probe timeout, not an RTT: compare time_mean_ms",
		"seed goodput: G = (M - 40)/(M + header) x (1 - p x overshoot_packets) adds a header to an MTU that already holds it and weighs an overshoot by the loss rate: a black-holed MTU scores full goodput at p = 0 and a hugely negative one otherwise; goodput is (M - 40)/(M + 38) (TCP/IPv4 payload over Ethernet wire bytes) and 0 when M exceeds the path MTU",
	}
	if rep.Params.Loss > 0 {
		n = append(n, "a lost probe is not proof that the size is too big: a single lost probe in a one-try binary search caps the answer one byte below it (the seed's 1350 example ends at 1349, not 1275)")
	}
	if fellBack > 0 {
		n = append(n, fmt.Sprintf("%d row(s) had too many states for exact mode and were sampled (Monte Carlo, exact: false)", fellBack))
	}
	return n
}

func simTitle(rep *SimReport) string {
	p := rep.Params
	t := fmt.Sprintf("[%d, %d], loss %s, ICMP %s, RTT %s ms", p.Range[0], p.Range[1], simPct(p.Loss), simPct(p.ICMP), strconv.FormatFloat(p.RTTms, 'f', -1, 64))
	return t
}

func simPct(v float64) string { return strconv.FormatFloat(100*v, 'f', -1, 64) + "%" }

// WriteText prints the report as a table.
func (rep *SimReport) WriteText(w io.Writer) error {
	p := rep.Params
	mode := fmt.Sprintf("Monte Carlo, %d trials per row, seed %d", p.Trials, p.Seed)
	if p.Exact {
		mode = "exact"
	}
	fmt.Fprintf(w, "path MTU search over [%d, %d]: loss %s, ICMP delivered %s, RTT %s ms, probe timeout %s ms (%s)\n",
		p.Range[0], p.Range[1], simPct(p.Loss), simPct(p.ICMP), simNum(p.RTTms), simNum(p.PTOms), mode)
	var also []string
	if p.BER > 0 {
		also = append(also, fmt.Sprintf("per-byte loss %g", p.BER))
	}
	if p.Forge > 0 {
		also = append(also, fmt.Sprintf("%s of probes answered by a forged PTB reporting %d", simPct(p.Forge), p.ForgeMTU))
	}
	if p.Frag > 0 {
		also = append(also, fmt.Sprintf("a packet without DF comes back in fragments %s of the time (mtukit's hint after its first loss)", simPct(p.Frag)))
	}
	if p.ChangeAfter > 0 {
		also = append(also, fmt.Sprintf("path MTU becomes %d after %d probes", p.ChangeTo, p.ChangeAfter))
	}
	if len(also) > 0 {
		fmt.Fprintf(w, "also: %s\n", strings.Join(also, "; "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tΔS\ttunnel\tprobes\tp95\ttime ms\tp95 ms\tRTTs\tfound\tp5\terror B\texact\tsub-opt\tovershoot\tgoodput\tseed G\tseed L ms\t")
	for _, s := range rep.Results {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.2f\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%d\t%.2f\t%s\t%s\t%s\t%.2f%%\t%s\t%.1f\t\n",
			s.Strategy, s.Step, s.Tunnel, s.ProbesMean, s.ProbesP95, s.TimeMeanMS, s.TimeP95MS, s.TimeMeanRTT,
			s.DiscoveredMean, s.DiscoveredP5, s.ErrorMean, simProb(s.PExact), simProb(s.PSubOptimal), simProb(s.POvershoot),
			100*s.Goodput, simSeedG(s.GoodputSeed), s.SeedLatencyMS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, r := range rep.Recommendations {
		step := ""
		if r.Step > 0 {
			step = fmt.Sprintf(" (ΔS %d)", r.Step)
		}
		fmt.Fprintf(w, "recommended for %s: %s%s, %.2f probes: %s", r.Tunnel, r.Strategy, step, r.Probes, r.Why)
		if r.BestLinearStep > 0 {
			fmt.Fprintf(w, "; best linear ΔS %d", r.BestLinearStep)
		}
		fmt.Fprintln(w)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if rep.PlotFile != "" {
		fmt.Fprintf(w, "plot: %s\n", rep.PlotFile)
	}
	return nil
}

func simNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// prob prints a probability as a percentage with enough digits to tell a
// small risk from none.
func simProb(p float64) string {
	switch {
	case p == 0:
		return "0"
	case p < 0.0001:
		return "<0.01%"
	}
	return fmt.Sprintf("%.2f%%", 100*p)
}

func simSeedG(g float64) string {
	if math.Abs(g) >= 10 {
		return fmt.Sprintf("%.3g", 100*g) + "%"
	}
	return fmt.Sprintf("%.2f%%", 100*g)
}

// simProgress draws a progress bar on stderr when it is a terminal and the
// run has lasted more than a second.
type simProgress struct {
	w        io.Writer
	total    int
	frac     atomic.Uint64 // completed runs x 1e6, plus the current run's share
	quit     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	drawn    atomic.Bool
	disabled bool
}

func newSimProgress(w io.Writer, total int) *simProgress {
	p := &simProgress{w: w, total: total, quit: make(chan struct{}), disabled: !isTerminal(w)}
	if p.disabled {
		return p
	}
	start := time.Now()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case now := <-t.C:
				if now.Sub(start) < time.Second {
					continue
				}
				p.drawn.Store(true)
				f := float64(p.frac.Load()) / 1e6 / float64(max(p.total, 1))
				n := int(min(f, 1) * 30)
				fmt.Fprintf(p.w, "\r\033[Ksimulating [%s%s] %3.0f%%", strings.Repeat("=", n), strings.Repeat(" ", 30-n), 100*min(f, 1))
			}
		}
	}()
	return p
}

// within returns the progress callback of run i.
func (p *simProgress) within(i int) func(done, total int64) {
	if p.disabled {
		return nil
	}
	return func(done, total int64) {
		if total > 0 {
			p.frac.Store(uint64(i)*1e6 + uint64(float64(done)/float64(total)*1e6))
		}
	}
}

func (p *simProgress) done(n int) {
	if !p.disabled {
		p.frac.Store(uint64(n) * 1e6)
	}
}

func (p *simProgress) stop() {
	p.once.Do(func() {
		if p.disabled {
			return
		}
		close(p.quit)
		p.wg.Wait()
		if p.drawn.Load() {
			fmt.Fprint(p.w, "\r\033[K")
		}
	})
}
