package cli

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
	"github.com/mtukit/mtukit/tput"
	"github.com/mtukit/mtukit/tput/chart"
)

type tputOptions struct {
	stack, family, tcpOpts, window, rate, mssSpec, model, pmtu, tunnel, tooBig, transfer, detect, plot string
	mtu, wscale, ackEvery, framing, fallback                                                           int
	rtt, rto                                                                                           time.Duration
	loss, c                                                                                            float64
	json                                                                                               bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &tputOptions{}
		c := &cobra.Command{
			Use:   "tput",
			Short: "Goodput against MSS (window, loss and link limits) and the best MSS when the path MTU is uncertain",
			Long: `tput computes, for each MSS, the three limits on a bulk TCP transfer and the one
that binds:

  window  receive window x 8 / RTT (window = 16-bit field << window scale;
          the scale is a shift count 0..14, unrelated to the MSS)
  loss    Mathis et al. 1997 (MSS/RTT x C/sqrt(p), C = sqrt(3/(2b))) or the
          Padhye et al. 1998 full model with retransmission timeouts and the
          window (the default)
  link    line rate x payload / bytes on the wire, with every layer of the
          stack (exact, as calc) and the link framing (Ethernet: 38 bytes)

With --pmtu (a measurement: "1400:1499", or weights "1500=0.6,1420=0.4") or
--tunnel (a tunnel type whose variants are equally likely), it finds the MSS
with the highest expected goodput when a too-large MSS costs a black-hole
stall (--too-big blackhole: RTOs until the sender falls back), one round
trip (pmtud), or fragmentation (fragment), and prices the usual choices.`,
			Example: `  mtukit tput --rtt 100ms --loss 0.01 --model mathis
  mtukit tput --stack wireguard --rtt 40ms --loss 0.001 --rate 100M
  mtukit tput --window 65535 --wscale 7 --rtt 100ms
  mtukit tput --tunnel ipsec --rtt 30ms --loss 0.0005 --plot ipsec.svg
  mtukit tput --pmtu 1400:1499 --too-big pmtud --json`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runTput(env, o, cmd) },
		}
		f := c.Flags()
		f.StringVarP(&o.stack, "stack", "s", "", "encapsulation stack, wire inwards, as calc (empty: TCP on the link itself)")
		f.IntVarP(&o.mtu, "mtu", "m", 1500, "IP MTU of the link the stack rides on (68..65535)")
		f.StringVar(&o.family, "family", "ipv4", "family of the TCP connection: ipv4 or ipv6")
		f.StringVar(&o.tcpOpts, "tcp-options", "ts", "options on each data segment, as calc: ts, sack=N, md5, ao=N, none")
		f.DurationVar(&o.rtt, "rtt", 50*time.Millisecond, "round-trip time")
		f.Float64Var(&o.loss, "loss", 0, "segment loss probability, in [0, 1) (0.01 = 1%)")
		f.StringVar(&o.window, "window", "", "receive window in bytes (1MiB, 65535...); with --wscale, the 16-bit window field (default 65535 << 7)")
		f.IntVar(&o.wscale, "wscale", -1, "window scale shift count 0..14 applied to --window (RFC 7323)")
		f.StringVar(&o.rate, "rate", "1G", "line rate of the link in bit/s (100M, 1G, 10Gbit/s)")
		f.StringVar(&o.mssSpec, "mss", "", "one MSS, or a sweep LO:HI[:STEP] (default: 20-byte steps up to the largest that fits)")
		f.StringVar(&o.model, "model", "pftk", "loss model that competes: pftk (Padhye et al. 1998) or mathis (Mathis et al. 1997)")
		f.IntVar(&o.ackEvery, "ack-every", 1, "b: segments acknowledged per ACK in the models (Linux grows cwnd per segment: 1)")
		f.Float64Var(&o.c, "mathis-c", 0, "Mathis constant C (default sqrt(3/(2b)); 1 reproduces the seed article)")
		f.DurationVar(&o.rto, "rto", 0, "retransmission timeout T0 for PFTK and stalls (default RTT + 200ms)")
		f.IntVar(&o.framing, "framing", tput.EthernetFraming, "bytes each frame costs outside the IP MTU (Ethernet: preamble 8 + header 14 + FCS 4 + gap 12)")
		f.StringVar(&o.pmtu, "pmtu", "", "uncertain path MTU: 1420, 1400:1499, or 1500=0.6,1420=0.4")
		f.StringVar(&o.tunnel, "tunnel", "", "uncertain tunnel type, each variant equally likely: "+strings.Join(tput.TunnelTypes(), ", "))
		f.StringVar(&o.tooBig, "too-big", "blackhole", "what a too-large segment costs: blackhole, pmtud or fragment")
		f.StringVar(&o.transfer, "transfer", "10MiB", "bytes per connection, over which a one-off stall is spread")
		f.StringVar(&o.detect, "detect", "3s", "black hole: the sender falls back at the first RTO this long after the loss (Linux: 3s), or never")
		f.IntVar(&o.fallback, "fallback-mss", 0, "black hole: MSS the sender falls back to (default Linux tcp_base_mss 1024 + options)")
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.StringVar(&o.plot, "plot", "", "write goodput against MSS, with the three limits, to this SVG file")
		return c
	})
}

// TputReport is what `mtukit tput` prints, as text or JSON.
type TputReport struct {
	Stack     string    `json:"stack"`
	Family    string    `json:"family"`
	LinkMTU   int       `json:"link_mtu"`
	PathMTU   int       `json:"path_mtu"`
	ClampMSS  int       `json:"clamp_mss"` // calc's clamp: mss.ForMTU(path MTU)
	Rate      tput.Rate `json:"rate"`
	Framing   int       `json:"framing"`
	Options   int       `json:"tcp_options"`
	RTTms     float64   `json:"rtt_ms"`
	Loss      float64   `json:"loss"`
	Window    int64     `json:"window"`
	WindowHow string    `json:"window_from"`
	Model     string    `json:"loss_model"`
	AckEvery  int       `json:"ack_every"`
	MathisC   float64   `json:"mathis_c"`
	RTOms     float64   `json:"rto_ms"`
	// BDP is the bandwidth-delay product at the line rate: the window the
	// line rate needs, and the smallest window scale that can carry it.
	BDP       int64         `json:"bdp_bytes"`
	BDPScale  int           `json:"bdp_wscale"`
	Rows      []tput.Limits `json:"rows"`
	Best      int           `json:"recommended_mss"`
	BestRate  tput.Rate     `json:"recommended_goodput"`
	Reason    string        `json:"reason"`
	Uncertain *Uncertainty  `json:"uncertainty,omitempty"`
	PlotFile  string        `json:"plot,omitempty"`
}

// Uncertainty is the best-MSS answer for an uncertain path MTU.
type Uncertainty struct {
	Source    string          `json:"source"`
	Scenarios []tput.Scenario `json:"scenarios"`
	Cost      tput.Cost       `json:"cost"`
	StallMs   float64         `json:"stall_ms"`
	Best      tput.Outcome    `json:"best"`
	Choices   []tput.Outcome  `json:"choices"`
	Expected  []tput.Rate     `json:"expected_per_row"`
}

func runTput(env *Env, o *tputOptions, cmd *cobra.Command) error {
	p, rep, err := tputParams(o, cmd)
	if err != nil {
		return err
	}
	lo, hi, step, err := parseMSSSweep(o.mssSpec, p, rep.PathMTU)
	if err != nil {
		return err
	}
	var d tput.Dist
	switch {
	case o.pmtu != "" && o.tunnel != "":
		return usagef("--pmtu and --tunnel both describe the path MTU: give one")
	case o.pmtu != "":
		if d, err = tput.ParseDist(o.pmtu); err != nil {
			return usagef("--pmtu: %v", err)
		}
	case o.tunnel != "":
		if d, err = tput.Tunnel(o.tunnel, p.LinkMTU, p.Stack, p.Family); err != nil {
			return usagef("--tunnel: %v", err)
		}
	default:
		d = tput.Dist{{Prob: 1, PathMTU: rep.PathMTU}}
	}
	cost, err := tputCost(o, p)
	if err != nil {
		return err
	}
	clampLabel := stackName(o.stack)
	if o.tunnel != "" {
		// The table shows the variant with the smallest path MTU (what a
		// cautious calc user would clamp for); "expected" averages them all.
		worst := d[0]
		for _, s := range d {
			if s.PathMTU < worst.PathMTU {
				worst = s
			}
		}
		p.Stack, rep.PathMTU, rep.Stack = worst.Stack, worst.PathMTU, worst.Label+" (smallest of tunnel type "+o.tunnel+")"
		rep.ClampMSS = mss.ForMTU(worst.PathMTU, p.Family)
		clampLabel = worst.Label
		if o.mssSpec == "" {
			lo, hi, step, _ = parseMSSSweep("", p, d.MaxPathMTU())
		}
	}
	fit := p.MSSForMTU(rep.PathMTU)
	for m := lo; m <= hi; m += step {
		l, err := p.Evaluate(m)
		if err != nil {
			return usagef("--mss %d: %v", m, err)
		}
		rep.Rows = append(rep.Rows, l)
		if m < fit && m+step > fit && fit <= hi {
			l, _ := p.Evaluate(fit)
			rep.Rows = append(rep.Rows, l)
		}
	}
	// Search every MSS from the sweep's start (or the smallest that fits
	// the distribution) to the largest of the sweep and the distribution.
	slo := max(min(lo, p.MSSForMTU(d.MinPathMTU())), p.Options+1)
	shi := max(hi, p.MSSForMTU(d.MaxPathMTU()))
	best, all, err := p.Best(d, cost, slo, shi)
	if err != nil {
		return asUsage(err)
	}
	rep.Best, rep.BestRate = best.MSS, best.Expected
	if o.pmtu == "" && o.tunnel == "" {
		if best.MSS == fit {
			rep.Reason = fmt.Sprintf("the path MTU is known (%d): every limit grows with the MSS, so the largest MSS that fits wins, MSS %d = %d - %d (RFC 6691), which is calc's clamp", rep.PathMTU, fit, rep.PathMTU, rep.PathMTU-fit)
		} else {
			rep.Reason = fmt.Sprintf("largest goodput over MSS %d..%d", slo, shi)
		}
	} else {
		u := &Uncertainty{Scenarios: d, Cost: cost, Best: best}
		if o.pmtu != "" {
			u.Source = "measurement " + o.pmtu
		} else {
			u.Source = "tunnel type " + o.tunnel
		}
		if cost.TooBig == tput.TooBigBlackHole && !cost.Never {
			u.StallMs = ms(tput.Stall(p.T0(), cost.Detect))
		}
		choices := map[string]int{"1460": 1460, "1400": 1400, "1380": 1380, "1360": 1360}
		if m := rep.ClampMSS; m > p.Options {
			choices["calc clamp ("+clampLabel+")"] = m
		}
		if u.Choices, err = p.Compare(best, d, cost, choices); err != nil {
			return asUsage(err)
		}
		byMSS := map[int]tput.Rate{}
		for _, a := range all {
			byMSS[a.MSS] = a.Expected
		}
		for _, r := range rep.Rows {
			e, ok := byMSS[r.MSS]
			if !ok {
				oc, err := p.Expected(r.MSS, d, cost)
				if err != nil {
					return asUsage(err)
				}
				e = oc.Expected
			}
			u.Expected = append(u.Expected, e)
		}
		rep.Reason = uncertainReason(p, u, d)
		rep.Uncertain = u
	}

	if o.plot != "" {
		if err := writeTputPlot(o.plot, p, rep, d, cost); err != nil {
			return err
		}
		rep.PlotFile = o.plot
	}
	if o.json {
		return writeJSON(env.Stdout, rep)
	}
	return writeTputText(env.Stdout, rep)
}

func stackName(s string) string {
	if s == "" {
		return "plain link"
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// tputParams turns the flags into tput.Params, naming the flag at fault.
func tputParams(o *tputOptions, cmd *cobra.Command) (*tput.Params, *TputReport, error) {
	p := &tput.Params{LinkMTU: o.mtu, Framing: o.framing, RTT: o.rtt, Loss: o.loss, AckEvery: o.ackEvery, C: o.c, RTO: o.rto}
	switch strings.ToLower(o.family) {
	case "ipv4", "4", "inet":
		p.Family = encap.IPv4
	case "ipv6", "6", "inet6":
		p.Family = encap.IPv6
	default:
		return nil, nil, usagef("--family %q: want ipv4 or ipv6", o.family)
	}
	if err := encap.CheckLinkMTU(o.mtu); err != nil {
		return nil, nil, usagef("--mtu: %v", err)
	}
	if o.stack != "" {
		st, err := encap.Parse(o.stack)
		if err != nil {
			return nil, nil, usagef("--stack: %v", err)
		}
		p.Stack = st
	}
	opts, err := advise.ParseTCPOptions(o.tcpOpts)
	if err != nil {
		return nil, nil, usagef("--tcp-options: %v", err)
	}
	p.Options, _ = opts.Bytes() // ParseTCPOptions checked that they fit
	if o.rtt <= 0 {
		return nil, nil, usagef("--rtt %v: the round-trip time must be positive", o.rtt)
	}
	if math.IsNaN(o.loss) || o.loss < 0 || o.loss >= 1 {
		return nil, nil, usagef("--loss %v: want a probability in [0, 1) (0.01 is 1%%)", o.loss)
	}
	if p.Rate, err = tput.ParseRate(o.rate); err != nil {
		return nil, nil, usagef("--rate: %v", err)
	}
	if p.Model, err = tput.ParseLossModel(o.model); err != nil {
		return nil, nil, usagef("--model: %v", err)
	}
	if o.ackEvery < 1 || o.ackEvery > 64 {
		return nil, nil, usagef("--ack-every %d: want 1..64", o.ackEvery)
	}
	if o.c < 0 || math.IsNaN(o.c) || math.IsInf(o.c, 0) {
		return nil, nil, usagef("--mathis-c %v: want a positive constant", o.c)
	}
	if o.rto < 0 {
		return nil, nil, usagef("--rto %v: must not be negative", o.rto)
	}
	if o.framing < 0 || o.framing > 1000 {
		return nil, nil, usagef("--framing %d: want 0..1000 bytes", o.framing)
	}
	how := ""
	switch {
	case o.wscale >= 0:
		if o.wscale > tput.MaxWindowScale {
			return nil, nil, usagef("--wscale %d: the shift count is 0..14 (RFC 7323)", o.wscale)
		}
		field := int64(65535)
		if o.window != "" {
			if field, err = tput.ParseBytes(o.window); err != nil {
				return nil, nil, usagef("--window: %v", err)
			}
		}
		w, err := tput.ScaledWindow(int(min(field, 1<<20)), o.wscale)
		if err != nil {
			return nil, nil, usagef("--window with --wscale: %v", err)
		}
		p.Window, how = w, fmt.Sprintf("%d << %d", field, o.wscale)
	case cmd.Flags().Changed("wscale"):
		return nil, nil, usagef("--wscale %d: want a shift count 0..14", o.wscale)
	case o.window != "":
		if p.Window, err = tput.ParseBytes(o.window); err != nil {
			return nil, nil, usagef("--window: %v", err)
		}
		how = "--window " + o.window
	default:
		p.Window, how = int64(65535)<<7, "default 65535 << 7"
	}
	if err := tput.CheckWindow(p.Window); err != nil {
		return nil, nil, usagef("--window: %v", err)
	}
	if err := p.Validate(); err != nil {
		return nil, nil, stackError(err)
	}
	pm, _ := p.PathMTU()
	rep := &TputReport{Stack: stackName(o.stack), Family: p.Family.String(), LinkMTU: p.LinkMTU, PathMTU: pm,
		ClampMSS: mss.ForMTU(pm, p.Family), Rate: p.Rate, Framing: p.Framing, Options: p.Options,
		RTTms: ms(p.RTT), Loss: p.Loss, Window: p.Window, WindowHow: how, Model: p.Model.String(),
		AckEvery: max(p.AckEvery, 1), MathisC: p.MathisConst(), RTOms: ms(p.T0()), BDP: tput.WindowNeeded(p.Rate, p.RTT)}
	if s, err := tput.ScaleFor(rep.BDP); err == nil {
		rep.BDPScale = s
	} else {
		rep.BDPScale = -1
	}
	return p, rep, nil
}

func tputCost(o *tputOptions, p *tput.Params) (tput.Cost, error) {
	c := tput.DefaultCost(p.Options)
	var err error
	if c.TooBig, err = tput.ParseTooBig(o.tooBig); err != nil {
		return c, usagef("--too-big: %v", err)
	}
	if c.Transfer, err = tput.ParseBytes(o.transfer); err != nil {
		return c, usagef("--transfer: %v", err)
	}
	if c.Transfer <= 0 {
		return c, usagef("--transfer %q: must be positive", o.transfer)
	}
	if o.detect == "never" {
		c.Never = true
	} else if c.Detect, err = time.ParseDuration(o.detect); err != nil || c.Detect < 0 {
		return c, usagef("--detect %q: want a duration such as 3s, or never", o.detect)
	}
	if o.fallback != 0 {
		if o.fallback <= p.Options || o.fallback > 65495 {
			return c, usagef("--fallback-mss %d: want %d..65495", o.fallback, p.Options+1)
		}
		c.FallbackMSS = o.fallback
	}
	if c.TooBig == tput.TooBigFragment && p.Family != encap.IPv4 {
		return c, usagef("--too-big fragment: IPv6 routers never fragment (RFC 8200); use blackhole or pmtud")
	}
	return c, nil
}

// parseMSSSweep reads --mss: "1400", "1200:1460" or "1200:1460:20".
func parseMSSSweep(s string, p *tput.Params, pathMTU int) (lo, hi, step int, err error) {
	fit := p.MSSForMTU(pathMTU)
	if s == "" {
		hi = fit
		lo = max((fit-260)/20*20, p.Options+1)
		return lo, hi, 20, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, 0, 0, usagef("--mss %q: want MSS or LO:HI[:STEP]", s)
	}
	nums := make([]int, len(parts))
	for i, x := range parts {
		if nums[i], err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			return 0, 0, 0, usagef("--mss %q: %q is not a whole number", s, x)
		}
	}
	lo, hi, step = nums[0], nums[0], 1
	if len(nums) >= 2 {
		hi = nums[1]
		step = 20
	}
	if len(nums) == 3 {
		step = nums[2]
	}
	maxMSS := 65535 - p.Family.HeaderLen() - tput.TCPHeader
	switch {
	case lo <= p.Options:
		return 0, 0, 0, usagef("--mss %d leaves no payload after %d bytes of TCP options", lo, p.Options)
	case hi > maxMSS:
		return 0, 0, 0, usagef("--mss %d: above %d, the largest MSS an IP packet can carry", hi, maxMSS)
	case lo > hi:
		return 0, 0, 0, usagef("--mss %q: range runs backwards", s)
	case step < 1:
		return 0, 0, 0, usagef("--mss %q: step must be at least 1", s)
	case (hi-lo)/step > 5000:
		return 0, 0, 0, usagef("--mss %q: more than 5000 rows", s)
	}
	return lo, hi, step, nil
}

func uncertainReason(p *tput.Params, u *Uncertainty, d tput.Dist) string {
	var b strings.Builder
	fmt.Fprintf(&b, "over %d possible path MTUs (%d..%d), MSS %d has the highest expected goodput", len(d), d.MinPathMTU(), d.MaxPathMTU(), u.Best.MSS)
	fmt.Fprintf(&b, " and fits with probability %.3g", u.Best.PFit)
	switch u.Cost.TooBig {
	case tput.TooBigBlackHole:
		if u.Cost.Never {
			b.WriteString("; a larger MSS hangs the connection whenever it does not fit (no black-hole detection)")
		} else {
			fmt.Fprintf(&b, "; a larger MSS stalls %.0f ms in RTOs whenever it does not fit, then runs at MSS %d", u.StallMs, u.Cost.FallbackMSS)
		}
	case tput.TooBigPMTUD:
		b.WriteString("; with working PMTUD a too-large MSS costs only one round trip")
	case tput.TooBigFragment:
		b.WriteString("; a too-large MSS sends every segment as fragments, each lost on its own")
	}
	return b.String()
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

func writeTputText(w io.Writer, r *TputReport) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Path: %s on a %d-byte link: path MTU %d (%s), calc's clamp MSS %d\n", r.Stack, r.LinkMTU, r.PathMTU, r.Family, r.ClampMSS)
	fmt.Fprintf(&b, "Link: %s line rate, %d bytes of framing per frame; TCP options %d bytes per segment\n", r.Rate, r.Framing, r.Options)
	fmt.Fprintf(&b, "TCP: RTT %s, loss %s, window %d bytes (%s)\n", fmtMs(r.RTTms), pct(r.Loss), r.Window, r.WindowHow)
	fmt.Fprintf(&b, "Models: loss limit = %s (Mathis C = %.4f, b = %d, PFTK T0 = %s)\n", modelName(r.Model), r.MathisC, r.AckEvery, fmtMs(r.RTOms))
	scale := "beyond TCP's largest window"
	if r.BDPScale >= 0 {
		scale = fmt.Sprintf("window scale %d or more", r.BDPScale)
	}
	fmt.Fprintf(&b, "BDP at the line rate: %d bytes (%s)\n\n", r.BDP, scale)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "MSS\tpayload\twire B\tefficiency\twindow\tMathis\tPFTK\tlink\tgoodput\tbinding\t"
	if r.Uncertain != nil {
		head += "expected\t"
	}
	fmt.Fprintln(tw, head)
	for i, l := range r.Rows {
		mark := ""
		if l.MSS == r.Best {
			mark = " *"
		}
		fmt.Fprintf(tw, "%d%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", l.MSS, mark, l.Payload, l.Wire, pct(l.Efficiency),
			l.Window, l.Mathis, l.PFTK, l.Link, l.Goodput, l.Binding)
		if r.Uncertain != nil {
			fmt.Fprintf(tw, "%s\t", r.Uncertain.Expected[i])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nRecommended MSS %d: %s goodput", r.Best, r.BestRate)
	if r.Uncertain != nil {
		b.WriteString(" expected")
	}
	fmt.Fprintf(&b, ".\nWhy: %s.\n", r.Reason)
	if u := r.Uncertain; u != nil {
		fmt.Fprintf(&b, "\nPath MTU from %s:", u.Source)
		for i, s := range u.Scenarios {
			if i == 12 {
				fmt.Fprintf(&b, " ... (%d in all)", len(u.Scenarios))
				break
			}
			if s.Label != "" {
				fmt.Fprintf(&b, " %d %s (%.3g)", s.PathMTU, s.Label, s.Prob)
			} else {
				fmt.Fprintf(&b, " %d (%.3g)", s.PathMTU, s.Prob)
			}
		}
		fmt.Fprintf(&b, "\nCost of a too-large MSS: %s", u.Cost.TooBig)
		if u.Cost.TooBig == tput.TooBigBlackHole {
			if u.Cost.Never {
				b.WriteString(" (the sender never detects it: goodput 0)")
			} else {
				fmt.Fprintf(&b, " (stall %s = first T0 (2^k - 1) >= %v, then MSS %d, halved while it does not fit)", fmtMs(u.StallMs), u.Cost.Detect, u.Cost.FallbackMSS)
			}
		}
		fmt.Fprintf(&b, "; %d bytes per connection\n\n", u.Cost.Transfer)
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "choice\tMSS\tP(fits)\texpected goodput\tshortfall vs best\t")
		for _, c := range u.Choices {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%s\t\n", c.Label, c.MSS, c.PFit, c.Expected, pct(c.Shortfall))
		}
		fmt.Fprintf(tw, "best\t%d\t%.3f\t%s\t%s\t\n", u.Best.MSS, u.Best.PFit, u.Best.Expected, pct(0))
		tw.Flush()
	}
	if r.PlotFile != "" {
		fmt.Fprintf(&b, "\nPlot written to %s\n", r.PlotFile)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func modelName(m string) string {
	if m == "mathis" {
		return "Mathis et al. 1997"
	}
	return "Padhye et al. 1998 (PFTK full model)"
}

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" }

// writeTputPlot draws every MSS of the sweep range, one byte apart.
func writeTputPlot(file string, p *tput.Params, r *TputReport, d tput.Dist, c tput.Cost) error {
	if len(r.Rows) == 0 {
		return usagef("--plot: no rows to plot")
	}
	lo, hi := r.Rows[0].MSS, r.Rows[len(r.Rows)-1].MSS
	in := chart.Input{Best: r.Best, Title: fmt.Sprintf("%s, link MTU %d, %s, RTT %s, loss %s", r.Stack, r.LinkMTU, r.Rate, fmtMs(r.RTTms), pct(r.Loss))}
	for m := lo; m <= hi; m++ {
		l, err := p.Evaluate(m)
		if err != nil {
			return asUsage(err)
		}
		in.Rows = append(in.Rows, l)
		if r.Uncertain != nil {
			o, err := p.Expected(m, d, c)
			if err != nil {
				return asUsage(err)
			}
			in.Expected = append(in.Expected, o.Expected)
		}
	}
	var buf bytes.Buffer
	if err := chart.SVG(&buf, in); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return usagef("--plot: %v", err)
	}
	return nil
}
