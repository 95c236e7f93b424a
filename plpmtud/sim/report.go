package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
)

// Request is a comparison of path MTU searches: what `mtukit sim` takes as
// flags and GET /api/v1/sim as query parameters. Start from DefaultRequest;
// Compare validates every field and names the one at fault in an
// *encap.ParamError (Param is the flag / query parameter name).
type Request struct {
	Strategy string // "strategy": a name, a comma-separated list, or all
	Step     string // "step": ΔS for the searches that take one: a value, a list, or seed; "" each one's own
	Tunnel   string // "tunnel": tunnel family of the path MTU (TunnelNames), or all
	PMTU     string // "pmtu": the path MTU instead of Tunnel, as encap.ParseMTUDist reads it
	Min, Max int    // "min", "max": the search range

	Loss, BER, ICMP, Forge, Frag float64 // "loss", "ber", "icmp", "forge", "frag": see Path
	ForgeMTU                     int     // "forge-mtu": 0 is Min
	ChangeAfter, ChangeTo        int     // "change-after", "change-to"
	RTT, PTO                     time.Duration

	MaxProbes, Parallel, PTBConfirm int // "max-probes", "parallel", "ptb-confirm": see plpmtud.Config
	// Prior is a remembered answer (0: none): every strategy runs wrapped
	// in plpmtud's re-validation (Config.Known), which probes Prior and
	// the next size up first and searches only when the path changed.
	Prior int // "prior"

	Epsilon, LossPrior float64 // "epsilon", "loss-prior"
	Threshold          int     // "threshold": bytes below the path MTU that count as sub-optimal
	Retry              float64 // "retry-factor": in the seed's latency formula

	Trials  int    // "trials": Monte Carlo searches per row
	Seed    uint64 // "seed"
	Workers int    // "workers": 0 is GOMAXPROCS; the numbers do not depend on it
	// Exact and MonteCarlo choose the engine; neither (the default) is
	// automatic: exact where it is cheap, Monte Carlo for forged PTBs
	// (their branches multiply the states) and for rows whose states
	// exceed AutoStates. The report says which engine ran each row.
	Exact      bool // "exact": exact probabilities for every row (Monte Carlo only past MaxStates)
	MonteCarlo bool // "monte-carlo": sample every row

	// Progress, when set, hears the share of the comparison done, in [0, 1].
	Progress func(done float64) `json:"-"`
}

// DefaultRequest is the request with every default `mtukit sim` has.
func DefaultRequest() Request {
	return Request{Strategy: "all", Tunnel: "mix", Min: 1200, Max: 1500, RTT: DefaultRTT, Threshold: 64, Retry: 1, Trials: 20000, Seed: 1}
}

// AutoStates is the state count (per group of up to 64 path MTUs) past
// which the automatic engine gives a row to Monte Carlo: the full table
// (11 strategies x 8 tunnel families at 1% loss) stays exact under it,
// while a row that would need millions of states (a jumbo range at 5%
// loss) is sampled after a bounded attempt. The CLI, the API and the page
// share it, so the API answers byte for byte what the CLI prints.
const AutoStates = 1 << 16

// Engine names, as the report's params.engine gives them.
const (
	EngineExact      = "exact"
	EngineMonteCarlo = "monte carlo"
	EngineMixed      = "exact and monte carlo"
)

// seedSteps are the ΔS values the seed article compares.
var seedSteps = []int{16, 32, 64, 128, 256}

// Report is the comparison, as text (WriteText) or JSON: the JSON of
// `mtukit sim --json` and of GET /api/v1/
type Report struct {
	Params          ReportParams     `json:"params"`
	Results         []Summary        `json:"results"`
	Recommendations []Recommendation `json:"recommendations"`
	Notes           []string         `json:"notes"`
	PlotFile        string           `json:"plot,omitempty"` // set by a front end that drew Curves

	curves []Curve
}

// ReportParams echoes the inputs.
type ReportParams struct {
	Range       [2]int  `json:"range"`
	Loss        float64 `json:"loss"`
	BER         float64 `json:"ber,omitempty"`
	ICMP        float64 `json:"icmp"`
	Forge       float64 `json:"forge,omitempty"`
	Frag        float64 `json:"frag,omitempty"`
	ForgeMTU    int     `json:"forge_mtu,omitempty"`
	ChangeAfter int     `json:"change_after,omitempty"`
	ChangeTo    int     `json:"change_to,omitempty"`
	Prior       int     `json:"prior,omitempty"`
	RTTms       float64 `json:"rtt_ms"`
	PTOms       float64 `json:"pto_ms"`
	Exact       bool    `json:"exact"`  // every row exact
	Engine      string  `json:"engine"` // EngineExact, EngineMonteCarlo or EngineMixed
	Auto        bool    `json:"auto"`   // the engine was chosen per row (neither exact nor monte-carlo asked)
	MonteCarlo  int     `json:"monte_carlo_rows,omitempty"`
	Trials      int     `json:"trials,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
	Threshold   int     `json:"suboptimal_threshold"`
	RetryFactor float64 `json:"seed_retry_factor"`
}

// Curve is one row's result with a label, for charts.
type Curve struct {
	Label  string
	Result *Result
}

// Curves are the rows' results, in the order of Results.
func (rep *Report) Curves() []Curve { return rep.curves }

type simRun struct {
	tunnel string
	dist   Dist
	name   string
	step   int // 0: the strategy's own
}

// plan validates r and lists the rows to run.
func (r Request) plan() ([]simRun, int, error) {
	names, err := simStrategies(r.Strategy)
	if err != nil {
		return nil, 0, err
	}
	steps, err := simSteps(r.Step)
	if err != nil {
		return nil, 0, err
	}
	dists, err := simDists(r)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case r.Trials <= 0 || r.Trials > 100_000_000:
		return nil, 0, encap.Paramf("trials", "trials %d out of range [1, 100000000]", r.Trials)
	case r.Workers < 0 || r.Workers > 1024:
		return nil, 0, encap.Paramf("workers", "workers %d out of range [0, 1024]", r.Workers)
	case r.Threshold < 0:
		return nil, 0, encap.Paramf("threshold", "threshold %d must not be negative", r.Threshold)
	case !(r.Retry >= 0) || math.IsInf(r.Retry, 0):
		return nil, 0, encap.Paramf("retry-factor", "retry-factor %g must be a non-negative number", r.Retry)
	case (r.ChangeAfter > 0) != (r.ChangeTo > 0):
		return nil, 0, encap.Paramf("change-after", "change-after and change-to go together")
	case r.RTT <= 0:
		return nil, 0, encap.Paramf("rtt", "rtt %s must be positive", r.RTT)
	case r.Exact && r.MonteCarlo:
		return nil, 0, encap.Paramf("monte-carlo", "monte-carlo excludes exact: choose one engine")
	}
	if err := r.path().validate(); err != nil {
		return nil, 0, err
	}
	if err := r.checkConfig(); err != nil {
		return nil, 0, err
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
	return runs, len(dists), nil
}

// Rows validates r and returns how many rows Compare would run.
func (r Request) Rows() (int, error) {
	runs, _, err := r.plan()
	return len(runs), err
}

func (r Request) path() Path {
	return Path{Loss: r.Loss, BER: r.BER, ICMP: r.ICMP, Forge: r.Forge, ForgeMTU: r.ForgeMTU, Frag: r.Frag, RTT: r.RTT, PTO: r.PTO, ChangeAfter: r.ChangeAfter, ChangeTo: r.ChangeTo}
}

func (r Request) config(step int) plpmtud.Config {
	return plpmtud.Config{Min: r.Min, Max: r.Max, Step: step, MaxProbes: r.MaxProbes, Parallel: r.Parallel, Epsilon: r.Epsilon, LossPrior: r.LossPrior, PTBConfirm: r.PTBConfirm, Known: r.Prior}
}

// checkConfig names the parameter behind a search configuration that
// package plpmtud refuses: each field is tried alone on a valid range.
func (r Request) checkConfig() error {
	switch {
	case r.Min < plpmtud.MinSize || r.Min > plpmtud.MaxSize:
		return encap.Paramf("min", "min %d out of range [%d, %d]", r.Min, plpmtud.MinSize, plpmtud.MaxSize)
	case r.Max < r.Min || r.Max > plpmtud.MaxSize:
		return encap.Paramf("max", "max %d out of range [min %d, %d]", r.Max, r.Min, plpmtud.MaxSize)
	case r.Prior != 0 && (r.Prior < r.Min || r.Prior > r.Max):
		return encap.Paramf("prior", "prior %d out of the search range [%d, %d]", r.Prior, r.Min, r.Max)
	}
	base := plpmtud.Config{Min: r.Min, Max: r.Max}
	for _, f := range []struct {
		param string
		set   func(*plpmtud.Config)
	}{
		{"max-probes", func(c *plpmtud.Config) { c.MaxProbes = r.MaxProbes }},
		{"parallel", func(c *plpmtud.Config) { c.Parallel = r.Parallel }},
		{"epsilon", func(c *plpmtud.Config) { c.Epsilon = r.Epsilon }},
		{"loss-prior", func(c *plpmtud.Config) { c.LossPrior = r.LossPrior }},
		{"ptb-confirm", func(c *plpmtud.Config) { c.PTBConfirm = r.PTBConfirm }},
	} {
		c := base
		f.set(&c)
		if _, err := plpmtud.New("binary", c); err != nil {
			return encap.Paramf(f.param, "%s: %v", f.param, err)
		}
	}
	return nil
}

// Compare runs every row of r and builds the report.
func Compare(ctx context.Context, r Request) (*Report, error) {
	runs, ndists, err := r.plan()
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	rep.Params = ReportParams{Range: [2]int{r.Min, r.Max}, Loss: r.Loss, BER: r.BER, ICMP: r.ICMP, Forge: r.Forge, Frag: r.Frag, ChangeAfter: r.ChangeAfter, ChangeTo: r.ChangeTo, Prior: r.Prior,
		RTTms: simMS(r.RTT), Auto: !r.Exact && !r.MonteCarlo, Threshold: r.Threshold, RetryFactor: r.Retry}
	if r.Forge > 0 {
		rep.Params.ForgeMTU = r.ForgeMTU
		if r.ForgeMTU == 0 {
			rep.Params.ForgeMTU = r.Min
		}
	}
	if r.PTO > 0 {
		rep.Params.PTOms = simMS(r.PTO)
	} else {
		rep.Params.PTOms = simMS(3 * r.RTT)
	}
	path := r.path()
	fellBack, sampled := 0, 0
	for i, run := range runs {
		sc := Scenario{Strategy: run.name, Config: r.config(run.step), Path: path, PMTU: run.dist}
		opt := Options{Trials: r.Trials, Seed: r.Seed, Workers: r.Workers}
		if r.Progress != nil {
			opt.Progress = func(done, total int64) {
				if total > 0 {
					r.Progress((float64(i) + float64(done)/float64(total)) / float64(len(runs)))
				}
			}
		}
		var res *Result
		switch {
		case r.MonteCarlo || (!r.Exact && r.Forge > 0):
			res, err = MonteCarlo(ctx, sc, opt)
		default:
			if !r.Exact {
				opt.MaxStates = AutoStates
			}
			res, err = Exact(ctx, sc, opt)
			if errors.Is(err, ErrTooLarge) {
				fellBack++
				res, err = MonteCarlo(ctx, sc, opt)
			}
		}
		if err == nil && !res.Exact {
			sampled++
		}
		if err != nil {
			return nil, err
		}
		step := run.step
		if step == 0 {
			info, _ := plpmtud.Lookup(run.name)
			step = info.NativeStep
		}
		s := Summarize(res, SummaryOptions{Tunnel: run.tunnel, Step: step, Threshold: r.Threshold, Retry: r.Retry})
		rep.Results = append(rep.Results, roundSummary(s))
		label := run.name
		if run.step != 0 {
			label += fmt.Sprintf(" ΔS %d", run.step)
		}
		if ndists > 1 {
			label += " " + run.tunnel
		}
		rep.curves = append(rep.curves, Curve{Label: label, Result: res})
		if r.Progress != nil {
			r.Progress(float64(i+1) / float64(len(runs)))
		}
	}
	rep.Params.MonteCarlo = sampled
	switch {
	case sampled == 0:
		rep.Params.Engine, rep.Params.Exact = EngineExact, true
	case sampled == len(runs):
		rep.Params.Engine = EngineMonteCarlo
	default:
		rep.Params.Engine = EngineMixed
	}
	if sampled > 0 {
		rep.Params.Trials, rep.Params.Seed = r.Trials, r.Seed
	}
	rep.Recommendations = Recommend(rep.Results)
	rep.Notes = simNotes(rep, fellBack)
	return rep, nil
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
			return nil, encap.Paramf("strategy", "strategy: unknown strategy %q (known: %s, or all)", n, strings.Join(plpmtud.Names(), ", "))
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
			return nil, encap.Paramf("step", "step: item %d %q is not a step in bytes (1-%d)", i+1, f, plpmtud.MaxSize)
		}
		out = append(out, v)
	}
	return out, nil
}

type namedDist struct {
	name string
	dist Dist
}

func simDists(r Request) ([]namedDist, error) {
	if r.PMTU != "" {
		if r.Tunnel != "mix" {
			return nil, encap.Paramf("pmtu", "pmtu and tunnel exclude each other")
		}
		ws, err := encap.ParseMTUDist(r.PMTU)
		if err != nil {
			return nil, encap.Paramf("pmtu", "pmtu: %w", err)
		}
		return []namedDist{pmtuDist(r.PMTU, ws)}, nil
	}
	names := []string{r.Tunnel}
	if r.Tunnel == "all" {
		names = TunnelNames()
	}
	var out []namedDist
	for _, n := range names {
		d, err := TunnelDist(n)
		if err != nil {
			return nil, encap.Paramf("tunnel", "tunnel: %w", err)
		}
		out = append(out, namedDist{n, d})
	}
	return out, nil
}

// pmtuDist names a parsed pmtu parameter: one MTU is fixed, an evenly
// weighted run of consecutive MTUs uniform, anything else its spec.
func pmtuDist(spec string, ws []encap.MTUWeight) namedDist {
	lo, hi := ws[len(ws)-1].MTU, ws[0].MTU // ParseMTUDist sorts them downwards
	if len(ws) == 1 {
		return namedDist{fmt.Sprintf("pmtu %d", lo), Fixed(lo)}
	}
	even := hi-lo+1 == len(ws)
	for _, w := range ws {
		even = even && w.Weight == ws[0].Weight
	}
	if even {
		return namedDist{fmt.Sprintf("uniform %d-%d", lo, hi), Uniform(lo, hi)}
	}
	d := make(Dist, 0, len(ws))
	for _, w := range ws {
		d = append(d, Point{w.MTU, w.Weight})
	}
	return namedDist{"pmtu " + strings.TrimSpace(spec), d}
}

// roundSummary rounds the floats so that the output does not show the last
// bits of floating-point sums, which depend on summation order.
func roundSummary(s Summary) Summary {
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

func simNotes(rep *Report, fellBack int) []string {
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
	if rep.Params.Auto && rep.Params.Forge > 0 {
		n = append(n, "forged PTBs multiply the exact mode's states: the rows were sampled (Monte Carlo); --exact computes them exactly, at a higher cost")
	}
	return n
}

// Title is a one-line summary of the path, for charts.
func (rep *Report) Title() string {
	p := rep.Params
	return fmt.Sprintf("[%d, %d], loss %s, ICMP %s, RTT %s ms", p.Range[0], p.Range[1], simPct(p.Loss), simPct(p.ICMP), strconv.FormatFloat(p.RTTms, 'f', -1, 64))
}

func simPct(v float64) string { return strconv.FormatFloat(100*v, 'f', -1, 64) + "%" }

// WriteText prints the report as a table.
func (rep *Report) WriteText(w io.Writer) error {
	p := rep.Params
	var mode string
	switch p.Engine {
	case EngineExact:
		mode = "exact"
	case EngineMixed:
		mode = fmt.Sprintf("exact; Monte Carlo for %d of %d rows, %d trials per row, seed %d", p.MonteCarlo, len(rep.Results), p.Trials, p.Seed)
	default:
		mode = fmt.Sprintf("Monte Carlo, %d trials per row, seed %d", p.Trials, p.Seed)
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
	if p.Prior > 0 {
		also = append(also, fmt.Sprintf("a prior answer of %d is re-validated first (probes %d and the next size up; the full search only when the path changed)", p.Prior, p.Prior))
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
