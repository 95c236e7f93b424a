package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
	"github.com/mtukit/mtukit/plpmtud/sim/simchart"
)

type simOptions struct {
	req  sim.Request
	plot string
	json bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &simOptions{req: sim.DefaultRequest()}
		r := &o.req
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
path MTU after N probes. --prior M runs every strategy as a prober that
remembers M from its last run: it probes M and the next size up first and
searches only when the path changed.

Each row's probabilities are exact by default (propagated through every
sequence of outcomes, no sampling) where that is cheap: rows with forged PTBs
(--forge) or too many states are sampled instead (Monte Carlo: --trials,
--seed; the same seed gives the same numbers whatever --workers), and the
report says which engine ran. --exact computes every row exactly, forged PTBs
included; --monte-carlo samples every row.

Strategies: mtukit (the default search), the seed article's linear, binary and
hybrid, RFC 8899's state machine (rfc8899), and models of Linux TCP, quic-go,
quiche, msquic, Linux SCTP and FreeBSD SCTP. --step sets ΔS for the first five
("seed" is the seed article's 16,32,64,128,256); the models keep their own.

The table also prints the seed article's closed-form latency
L = log2(PMTU/S0) x RTT x (1 + p x retry) and its goodput formula beside the
simulated time and the corrected goodput, so it shows where they fail.`,
			Example: `  mtukit sim
  mtukit sim --loss 0.01
  mtukit sim --monte-carlo --trials 50000 --seed 7
  mtukit sim --strategy linear,binary,hybrid --step seed --tunnel all --loss 0.02
  mtukit sim --strategy quic-go --pmtu 1200:1499 --exact
  mtukit sim --strategy mtukit,rfc8899 --icmp 1 --forge 0.1 --json
  mtukit sim --strategy mtukit --parallel 3 --tunnel ipsec --plot ipsec.svg
  mtukit sim --strategy mtukit,rfc8899 --prior 1420 --pmtu 1420`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runSim(env, o) },
		}
		f := c.Flags()
		f.StringVar(&r.Strategy, "strategy", r.Strategy, "strategy name, a comma-separated list, or all ("+strings.Join(plpmtud.Names(), ", ")+")")
		f.StringVar(&r.Step, "step", r.Step, "ΔS in bytes for linear, binary, hybrid, rfc8899 and mtukit: one value, a list, or seed (16,32,64,128,256); default: each strategy's own")
		f.StringVar(&r.Tunnel, "tunnel", r.Tunnel, "tunnel family for the path MTU: "+strings.Join(sim.TunnelNames(), ", ")+", or all")
		f.StringVar(&r.PMTU, "pmtu", r.PMTU, "the true path MTU instead of --tunnel: N, LO:HI (every MTU in the range equally likely), or weights 1500=0.6,1420=0.4, as tput --pmtu")
		f.IntVar(&r.Min, "min", r.Min, "smallest size, known to work (BASE_PLPMTU)")
		f.IntVar(&r.Max, "max", r.Max, "largest size worth probing")
		f.Float64Var(&r.Loss, "loss", r.Loss, "probability that a probe which fits is lost")
		f.Float64Var(&r.BER, "ber", r.BER, "size-dependent loss: per-byte error rate (a probe of s bytes is lost with 1-(1-ber)^s)")
		f.Float64Var(&r.ICMP, "icmp", r.ICMP, "probability that a too-big probe is answered by a PTB (0: black hole)")
		f.Float64Var(&r.Forge, "forge", r.Forge, "share of probes answered by a forged PTB that quotes them correctly")
		f.IntVar(&r.ForgeMTU, "forge-mtu", r.ForgeMTU, "the MTU forged PTBs report (default --min)")
		f.Float64Var(&r.Frag, "frag", r.Frag, "probability that a packet sent without DF comes back in fragments (IPv4 routers; mtukit then gets a hint, as from mtukit probe)")
		f.IntVar(&r.ChangeAfter, "change-after", r.ChangeAfter, "change the path MTU after this many probes (0: never)")
		f.IntVar(&r.ChangeTo, "change-to", r.ChangeTo, "the path MTU after --change-after")
		f.DurationVar(&r.RTT, "rtt", r.RTT, "round-trip time")
		f.DurationVar(&r.PTO, "pto", r.PTO, "probe timeout (default 3 x rtt)")
		f.IntVar(&r.MaxProbes, "max-probes", r.MaxProbes, "tries per size before it counts as too big (MAX_PROBES; default: each strategy's own)")
		f.IntVar(&r.Parallel, "parallel", r.Parallel, "probes per round for mtukit (1-8)")
		f.Float64Var(&r.Epsilon, "epsilon", r.Epsilon, "mtukit's stopping risk (default 0.01)")
		f.Float64Var(&r.LossPrior, "loss-prior", r.LossPrior, "the loss rate mtukit assumes (default 0.05)")
		f.IntVar(&r.Prior, "prior", r.Prior, "a remembered path MTU: every strategy re-validates it first (probes it and the next size up) and searches only when the path changed, as the exporter does")
		f.IntVar(&r.PTBConfirm, "ptb-confirm", r.PTBConfirm, "valid PTBs reporting the same MTU before mtukit takes it as an upper bound (default 1; 2 resists a lone forged PTB)")
		f.IntVar(&r.Threshold, "threshold", r.Threshold, "a result more than this many bytes below the path MTU is sub-optimal")
		f.Float64Var(&r.Retry, "retry-factor", r.Retry, "retry_factor in the seed's latency formula")
		f.IntVar(&r.Trials, "trials", r.Trials, "Monte Carlo searches per sampled row")
		f.Uint64Var(&r.Seed, "seed", r.Seed, "Monte Carlo seed")
		f.IntVar(&r.Workers, "workers", r.Workers, "worker goroutines (default: GOMAXPROCS)")
		f.BoolVar(&r.Exact, "exact", r.Exact, "exact probabilities for every row, forged PTBs included (default: exact where cheap, Monte Carlo otherwise)")
		f.BoolVar(&r.MonteCarlo, "monte-carlo", r.MonteCarlo, "sample every row (Monte Carlo: --trials, --seed)")
		f.BoolVar(&o.json, "json", false, "print JSON")
		f.StringVar(&o.plot, "plot", "", "write the CDF of probes and the histogram of the discovered MTU to this SVG file")
		return c
	})
}

func runSim(env *Env, o *simOptions) error {
	if o.plot != "" {
		n, err := o.req.Rows()
		if err != nil {
			return err
		}
		if n > 16 {
			return usagef("--plot: %d curves is too many for one chart (at most 16): choose fewer strategies, steps or tunnels", n)
		}
	}
	prog := newSimProgress(env.Stderr)
	defer prog.stop()
	if !prog.disabled {
		o.req.Progress = prog.set
	}
	rep, err := sim.Compare(env.Ctx, o.req)
	prog.stop()
	if err != nil {
		if env.Ctx.Err() != nil {
			return err
		}
		return asUsage(err)
	}
	if o.plot != "" {
		var series []simchart.Series
		for _, c := range rep.Curves() {
			series = append(series, simchart.Series{Label: c.Label, Result: c.Result})
		}
		var buf bytes.Buffer
		if err := simchart.SVG(&buf, rep.Title(), series); err != nil {
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

// simProgress draws a progress bar on stderr when it is a terminal and the
// run has lasted more than a second.
type simProgress struct {
	w        io.Writer
	frac     atomic.Uint64 // share done x 1e6
	quit     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	drawn    atomic.Bool
	disabled bool
}

func newSimProgress(w io.Writer) *simProgress {
	p := &simProgress{w: w, quit: make(chan struct{}), disabled: !isTerminal(w)}
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
				f := float64(p.frac.Load()) / 1e6
				n := int(min(f, 1) * 30)
				fmt.Fprintf(p.w, "\r\033[Ksimulating [%s%s] %3.0f%%", strings.Repeat("=", n), strings.Repeat(" ", 30-n), 100*min(f, 1))
			}
		}
	}()
	return p
}

// set records the share of the comparison done.
func (p *simProgress) set(done float64) { p.frac.Store(uint64(done * 1e6)) }

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
