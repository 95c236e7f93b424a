package cli

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/probe"
)

type responderOptions struct {
	listen, token string
	rate, total   float64
	burst, conns  int
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &responderOptions{}
		c := &cobra.Command{
			Use:   "responder",
			Short: "Answer 'mtukit probe --method udp|tcp' (safe to expose: no amplification, rate-limited)",
			Long: `responder answers mtukit's UDP probes with a 32-byte acknowledgement carrying
the size received (never larger than the probe) and reports, on TCP at the
same port, the MSS option of the client's SYN as it arrived (TCP_SAVED_SYN),
so a client sees whether something on the path clamps its MSS.

Replies are rate-limited per source (IPv6 per /64) in a fixed-size table and
in total (a spoofed source gets one reply per probe it sends, within both), TCP
connections are capped and closed within two seconds, and with --token only
probes carrying the token's MAC are answered.`,
			Example: `  mtukit responder --listen :4821
  mtukit responder --listen [::]:4821 --token s3cret`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runResponder(env, o) },
		}
		f := c.Flags()
		f.StringVar(&o.listen, "listen", fmt.Sprintf(":%d", probe.DefaultPort), "ADDR:PORT for UDP and TCP")
		f.StringVar(&o.token, "token", "", "shared token: answer only probes that carry its MAC")
		f.Float64Var(&o.rate, "rate", 200, "replies per second per source")
		f.IntVar(&o.burst, "burst", 100, "burst of replies per source")
		f.Float64Var(&o.total, "total-rate", 2000, "replies per second, all sources together (burst: half of it)")
		f.IntVar(&o.conns, "max-conns", 64, "concurrent TCP connections")
		return c
	})
}

func runResponder(env *Env, o *responderOptions) error {
	ap, err := parseListen(o.listen)
	if err != nil {
		return usagef("--listen %q: %v", o.listen, err)
	}
	if o.rate <= 0 || o.burst <= 0 || o.conns <= 0 || o.total <= 0 {
		return usagef("--rate, --burst, --total-rate and --max-conns must be positive")
	}
	r := &probe.Responder{Listen: ap, Rate: o.rate, Burst: o.burst, MaxConns: o.conns, TotalRate: o.total}
	if o.token != "" {
		r.Token = []byte(o.token)
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Serve(ctx) }()
	if a := r.Addr(); a.IsValid() {
		fmt.Fprintf(env.Stderr, "mtukit responder listening on %s (udp and tcp)\n", a)
	}
	if err := <-errc; err != nil {
		return err
	}
	s := r.Stats()
	fmt.Fprintf(env.Stderr, "mtukit responder: %d probes in, %d acknowledged, %d dropped; %d tcp answered, %d refused; %d refused by the per-source limit, %d by the total limit\n",
		s.UDPIn, s.UDPAcked, s.UDPDropped, s.TCPAccepted, s.TCPDropped, s.SourceLimited, s.TotalLimited)
	return nil
}

// parseListen reads "ADDR:PORT", "[v6]:PORT" or ":PORT" (all addresses,
// IPv4 and IPv6).
func parseListen(s string) (netip.AddrPort, error) {
	if strings.HasPrefix(s, ":") {
		s = "[::]" + s
	}
	return netip.ParseAddrPort(s)
}
