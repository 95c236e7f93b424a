package cli

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/tput"
	"github.com/mtukit/mtukit/tput/chart"
)

type tputOptions struct {
	req                           tput.Request
	family, tcpOpts, plot, preset string
	json, mtuSet                  bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &tputOptions{req: tput.DefaultRequest()}
		r := &o.req
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
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.mtuSet = cmd.Flags().Changed("mtu")
				return runTput(env, o)
			},
		}
		f := c.Flags()
		f.StringVarP(&r.Stack, "stack", "s", r.Stack, "encapsulation stack, wire inwards, as calc (empty: TCP on the link itself)")
		f.IntVarP(&r.LinkMTU, "mtu", "m", r.LinkMTU, "IP MTU of the link the stack rides on (68..65535)")
		f.StringVar(&o.preset, "preset", "", "a named setup for the stack and link MTU, as calc (mtukit calc --list-presets)")
		f.StringVar(&o.family, "family", r.Family.String(), "family of the TCP connection: ipv4 or ipv6")
		f.StringVar(&o.tcpOpts, "tcp-options", advise.DefaultTCPOptions, "options on each data segment, as calc: ts, sack=N, md5, ao=N, none")
		f.DurationVar(&r.RTT, "rtt", r.RTT, "round-trip time")
		f.Float64Var(&r.Loss, "loss", r.Loss, "segment loss probability, in [0, 1) (0.01 = 1%)")
		f.StringVar(&r.Window, "window", r.Window, "receive window in bytes (1MiB, 65535...); with --wscale, the 16-bit window field (default 65535 << 7)")
		f.IntVar(&r.WScale, "wscale", r.WScale, "window scale shift count 0..14 applied to --window (RFC 7323)")
		f.StringVar(&r.Rate, "rate", r.Rate, "line rate of the link in bit/s (100M, 1G, 10Gbit/s)")
		f.StringVar(&r.MSS, "mss", r.MSS, "one MSS, or a sweep LO:HI[:STEP] (default: 20-byte steps up to the largest that fits)")
		f.StringVar(&r.Model, "model", r.Model, "loss model that competes: pftk (Padhye et al. 1998) or mathis (Mathis et al. 1997)")
		f.IntVar(&r.AckEvery, "ack-every", r.AckEvery, "b: segments acknowledged per ACK in the models (Linux grows cwnd per segment: 1)")
		f.Float64Var(&r.MathisC, "mathis-c", r.MathisC, "Mathis constant C (default sqrt(3/(2b)); 1 reproduces the seed article)")
		f.DurationVar(&r.RTO, "rto", r.RTO, "retransmission timeout T0 for PFTK and stalls (default RTT + 200ms)")
		f.IntVar(&r.Framing, "framing", r.Framing, "bytes each frame costs outside the IP MTU (Ethernet: preamble 8 + header 14 + FCS 4 + gap 12)")
		f.StringVar(&r.PMTU, "pmtu", r.PMTU, "uncertain path MTU: 1420, 1400:1499, or 1500=0.6,1420=0.4")
		f.StringVar(&r.Tunnel, "tunnel", r.Tunnel, "uncertain tunnel type, each variant equally likely: "+strings.Join(tput.TunnelTypes(), ", "))
		f.StringVar(&r.TooBig, "too-big", r.TooBig, "what a too-large segment costs: blackhole, pmtud or fragment")
		f.StringVar(&r.Transfer, "transfer", r.Transfer, "bytes per connection, over which a one-off stall is spread")
		f.StringVar(&r.Detect, "detect", r.Detect, "black hole: the sender falls back at the first RTO this long after the loss (Linux: 3s), or never")
		f.IntVar(&r.Fallback, "fallback-mss", r.Fallback, "black hole: MSS the sender falls back to (default Linux tcp_base_mss 1024 + options)")
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.StringVar(&o.plot, "plot", "", "write goodput against MSS, with the three limits, to this SVG file")
		return c
	})
}

func runTput(env *Env, o *tputOptions) error {
	var err error
	if o.preset != "" {
		p, err := encap.LookupPreset(o.preset)
		if err != nil {
			return usagef("--preset: %v", err)
		}
		if o.req.Stack != "" {
			return usagef("--preset %s and --stack %q both given: the preset sets the stack (%s); give one of them", p.Name, o.req.Stack, p.Stack)
		}
		o.req.Stack = p.Stack
		if !o.mtuSet {
			o.req.LinkMTU = p.LinkMTU
		}
	}
	if o.req.Family, err = encap.ParseFamily(o.family); err != nil {
		return usagef("--family %v", err)
	}
	opts, err := advise.ParseTCPOptions(o.tcpOpts)
	if err != nil {
		return usagef("--tcp-options: %v", err)
	}
	o.req.Options, _ = opts.Bytes() // ParseTCPOptions validated them
	rep, err := tput.Calc(o.req)
	if err != nil {
		return asUsage(err)
	}
	if o.plot != "" {
		if err := writeTputPlot(o.plot, rep); err != nil {
			return err
		}
		rep.PlotFile = o.plot
	}
	if o.json {
		return writeJSON(env.Stdout, rep)
	}
	return rep.WriteText(env.Stdout)
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" }

// writeTputPlot draws every MSS of the sweep range, one byte apart.
func writeTputPlot(file string, r *tput.Report) error {
	rows, expected, err := r.PlotRows()
	if err != nil {
		return usagef("--plot: %v", err)
	}
	in := chart.Input{Best: r.Best, Rows: rows, Expected: expected,
		Title: fmt.Sprintf("%s, link MTU %d, %s, RTT %s, loss %s", r.Stack, r.LinkMTU, r.Rate, fmtMs(r.RTTms), pct(r.Loss))}
	var buf bytes.Buffer
	if err := chart.SVG(&buf, in); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return usagef("--plot: %v", err)
	}
	return nil
}
