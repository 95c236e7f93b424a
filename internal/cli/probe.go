package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/probe"
)

type probeOptions struct {
	method, search, token, stack, socket string
	min, max, retries, port, ptbConfirm  int
	timeout, maxTime                     time.Duration
	rate                                 float64
	json, v4, v6, quiet, hops            bool
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &probeOptions{}
		c := &cobra.Command{
			Use:   "probe HOST",
			Short: "Measure the real path MTU to a host, detect PMTUD black holes and MSS clamping",
			Long: `probe finds the exact path MTU to HOST (the largest IP packet that gets through
unfragmented) with probes sized by a plpmtud search strategy, tells whether
PMTUD is broken on the path (an ICMP black hole), and ends with what to
configure (calc's tunnel MTU and MSS clamp for --stack over this path).

Methods:
  icmp  echo requests with DF (root: raw socket; otherwise a ping socket)
  udp   padded UDP probes to 'mtukit responder' on HOST (works with all ICMP filtered)
  tcp   as udp, plus a TCP connection whose SYN MSS the responder reports back,
        so MSS clamping on the way is seen

A PTB (ICMP fragmentation needed / packet too big) is used only when it quotes
a probe in flight and only to lower; forged or mismatched ones are counted and
ignored. A valid PTB's MTU is probed next and bounds the search (--ptb-confirm 2
waits for two PTBs that agree). Sizes are whole IP packets.`,
			Example: `  mtukit probe 192.0.2.10
  mtukit probe --method udp --port 4821 server.example
  mtukit probe --method tcp --stack 'esp(aes-gcm-16)' --json server.example`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return runProbe(env, o, args[0]) },
		}
		f := c.Flags()
		f.StringVar(&o.method, "method", "icmp", "probe method: icmp, udp or tcp")
		f.StringVar(&o.search, "search", plpmtud.Default, "search strategy: "+strings.Join(plpmtud.Names(), ", "))
		f.IntVar(&o.min, "min", 0, "size assumed to work, checked (0: 1200 IPv4, 1280 IPv6)")
		f.IntVar(&o.max, "max", 0, "largest size probed (0: the outgoing interface MTU)")
		f.DurationVar(&o.timeout, "timeout", time.Second, "probe timer: a probe unanswered this long is lost")
		f.IntVar(&o.retries, "retries", 3, "lost probes of one size before it counts as too big")
		f.Float64Var(&o.rate, "rate", 50, "probes per second at most")
		f.IntVar(&o.ptbConfirm, "ptb-confirm", 1, "valid PTBs reporting the same MTU before it bounds the search (mtukit search)")
		f.IntVar(&o.port, "port", probe.DefaultPort, "responder port (udp, tcp)")
		f.StringVar(&o.token, "token", "", "shared token of the responder (udp)")
		f.StringVar(&o.stack, "stack", "", "tunnel stack the advice is for (calc's syntax; empty: a plain link)")
		f.StringVar(&o.socket, "socket", "", "raw (root) or errqueue (unprivileged); empty: raw when permitted")
		f.DurationVar(&o.maxTime, "max-time", 2*time.Minute, "give up after this long")
		f.BoolVar(&o.json, "json", false, "print the report as JSON")
		f.BoolVarP(&o.v4, "ipv4", "4", false, "use IPv4")
		f.BoolVarP(&o.v6, "ipv6", "6", false, "use IPv6")
		f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress line")
		f.BoolVar(&o.hops, "hops", false, "locate the hop where packets above the path MTU die (TTL bisection; icmp, root)")
		return c
	})
}

func runProbe(env *Env, o *probeOptions, host string) error {
	if o.v4 && o.v6 {
		return usagef("-4 and -6 exclude each other")
	}
	if o.stack != "" {
		if _, err := encap.Parse(o.stack); err != nil {
			return usagef("--stack: %v", err)
		}
	}
	if o.timeout <= 0 {
		return usagef("--timeout %s: want a positive duration", o.timeout)
	}
	if o.retries < 1 || o.retries > 10 {
		return usagef("--retries %d: want 1..10", o.retries)
	}
	if o.ptbConfirm < 1 || o.ptbConfirm > 8 {
		return usagef("--ptb-confirm %d: want 1..8", o.ptbConfirm)
	}
	if o.rate <= 0 || o.rate > 10000 {
		return usagef("--rate %g: want 0 < rate <= 10000 probes per second", o.rate)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--min", o.min}, {"--max", o.max}} {
		if f.v != 0 && (f.v < 68 || f.v > 65535) {
			return usagef("%s %d: want 68..65535 (or 0 for the default)", f.name, f.v)
		}
	}
	if o.min > 0 && o.max > 0 && o.min > o.max {
		return usagef("--min %d above --max %d", o.min, o.max)
	}
	if o.port < 1 || o.port > 65535 {
		return usagef("--port %d: want 1..65535", o.port)
	}
	if o.maxTime <= 0 {
		return usagef("--max-time %s: want a positive duration", o.maxTime)
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	addr, err := resolve(ctx, host, o.v4, o.v6)
	if err != nil {
		return err
	}
	opts := probe.Options{
		Target: host, Addr: addr, Method: o.method, Search: o.search, Min: o.min, Max: o.max,
		Timeout: o.timeout, Retries: o.retries, Rate: o.rate, Port: o.port, Stack: o.stack,
		Socket: o.socket, MaxDuration: o.maxTime, Hops: o.hops, PTBConfirm: o.ptbConfirm,
	}
	if o.hops && o.method != probe.MethodICMP {
		return usagef("--hops works with --method icmp only")
	}
	if o.token != "" {
		opts.Token = []byte(o.token)
	}
	if _, ok := plpmtud.Lookup(o.search); !ok {
		return usagef("--search %q: want one of %s", o.search, strings.Join(plpmtud.Names(), ", "))
	}
	switch o.method {
	case probe.MethodICMP, probe.MethodUDP, probe.MethodTCP:
	default:
		return usagef("--method %q: want icmp, udp or tcp", o.method)
	}
	switch o.socket {
	case probe.SocketAuto, probe.SocketRaw, probe.SocketErrqueue:
	default:
		return usagef("--socket %q: want raw or errqueue", o.socket)
	}
	live := !o.quiet && !o.json && isTerminal(env.Stderr)
	if live {
		opts.Progress = func(p probe.Progress) {
			fmt.Fprintf(env.Stderr, "\r\033[Kprobing %s: %d sent, %d acked, %d lost, %d PTB, estimate %d (%s)", host, p.Sent, p.Acked, p.Lost, p.PTB, p.Estimate, p.Last)
		}
	}
	rep, err := probe.Run(ctx, opts)
	if live {
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	if err != nil {
		switch {
		case rep == nil:
			return err
		case errors.Is(err, context.Canceled):
			return fmt.Errorf("interrupted after %d probes (%d ms); largest acknowledged so far: %d", rep.ProbesSent, rep.DurationMS, rep.PMTU)
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("gave up after --max-time %s and %d probes; largest acknowledged so far: %d", o.maxTime, rep.ProbesSent, rep.PMTU)
		case errors.Is(err, probe.ErrMinLost):
			return fmt.Errorf("%s: no answer to %d probes of %d bytes or more (host down, filtered, or path below --min %d)", host, rep.ProbesSent, rep.Min, rep.Min)
		}
		return err
	}
	if o.json {
		return writeJSON(env.Stdout, rep)
	}
	return rep.WriteText(env.Stdout)
}

// resolve turns HOST into one address of the requested family.
func resolve(ctx context.Context, host string, v4, v6 bool) (netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		a = a.Unmap()
		if (v4 && !a.Is4()) || (v6 && !a.Is6()) {
			return netip.Addr{}, usagef("%s is not of the family asked for", host)
		}
		return a, nil
	}
	netw := "ip"
	if v4 {
		netw = "ip4"
	} else if v6 {
		netw = "ip6"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, netw, host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("cannot resolve %q: %v", host, err)
	}
	for _, a := range addrs { // prefer IPv4 unless told, like ping
		if a.Unmap().Is4() || v6 {
			return a.Unmap(), nil
		}
	}
	return addrs[0].Unmap(), nil
}
