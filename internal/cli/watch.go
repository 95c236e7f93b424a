package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/capture"
	"github.com/mtukit/mtukit/watch"
)

type watchOptions struct {
	filter, listen    string
	prefix4, prefix6  int
	maxPeers, maxFlow int
	duration          time.Duration
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &watchOptions{}
		c := &cobra.Command{
			Use:   "watch IF",
			Short: "Watch live traffic for MTU trouble and export Prometheus counters",
			Long: `watch runs the capture analysis on a live interface (as analyze --live: Linux,
root or CAP_NET_RAW) for as long as it runs, sends no packet itself, and
exports what it finds for Prometheus on --listen:

  /metrics   mtukit_watch_findings_total{code,severity,peer}, packets analyzed,
             flows tracked, packets the kernel dropped; the peer is the far end
             of the flow as a prefix (--prefix4, --prefix6), at most --max-peers
             of them (the rest count as peer="other")
  /findings  the last 100 findings, JSON lines

Each finding is also printed on stdout as one JSON line when its evidence is
complete: a black hole as soon as a full-size segment's third transmission
stays unacknowledged, other findings when their flow closes or idles.`,
			Example: `  mtukit watch eth0 --listen :9798
  mtukit watch eth0 --filter 'tcp or icmp or icmp6' --prefix4 16 --prefix6 32`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return runWatch(env, o, args[0]) },
		}
		f := c.Flags()
		f.StringVar(&o.filter, "filter", "", "capture filter, tcpdump syntax (compiled by tcpdump)")
		f.StringVar(&o.listen, "listen", "127.0.0.1:9798", "address for /metrics (host:port; :9798 for every address)")
		f.IntVar(&o.prefix4, "prefix4", 24, "IPv4 peers are counted by this prefix length")
		f.IntVar(&o.prefix6, "prefix6", 48, "IPv6 peers are counted by this prefix length")
		f.IntVar(&o.maxPeers, "max-peers", 1000, "distinct peer prefixes with their own series; the rest are peer=\"other\"")
		f.IntVar(&o.maxFlow, "max-flows", 50000, "flows tracked at once; the least recently active are finished beyond it")
		f.DurationVar(&o.duration, "duration", 0, "stop after this long (default: at Ctrl-C)")
		return c
	})
}

func runWatch(env *Env, o *watchOptions, iface string) error {
	if o.maxFlow < 1 {
		return usagef("--max-flows %d: want at least 1", o.maxFlow)
	}
	if o.maxPeers < 1 {
		return usagef("--max-peers %d: want at least 1", o.maxPeers)
	}
	if o.duration < 0 {
		return usagef("--duration %v: want a positive duration", o.duration)
	}
	cfg := watch.Config{Prefix4: o.prefix4, Prefix6: o.prefix6, MaxPeers: o.maxPeers, Local: localAddrs()}
	if o.prefix4 < 1 || o.prefix4 > 32 {
		return usagef("--prefix4 %d: want 1 to 32", o.prefix4)
	}
	if o.prefix6 < 1 || o.prefix6 > 128 {
		return usagef("--prefix6 %d: want 1 to 128", o.prefix6)
	}
	m, err := watch.New(cfg)
	if err != nil {
		return asUsage(err)
	}
	live, err := capture.OpenLive(iface, capture.LiveOptions{Filter: o.filter})
	if err != nil {
		return asUsage(err)
	}
	defer live.Close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	fmt.Fprintf(env.Stderr, "mtukit watch: analyzing %s live (%s)%s; metrics on http://%s/metrics\n", iface, live.LinkType(), filterNote(o.filter), ln.Addr())

	var werr error
	s := capture.NewStream(capture.StreamOptions{Options: capture.Options{Name: iface, MaxFlows: o.maxFlow}}, func(e capture.Event) {
		m.Observe(e)
		if werr != nil {
			return
		}
		b, err := json.Marshal(e)
		if err == nil {
			_, err = env.Stdout.Write(append(b, '\n'))
		}
		werr = err
	})
	var drops uint64
	count := func() {
		if st, err := live.Stats(); err == nil {
			drops = st.Dropped
		}
		m.SetCounts(s.Packets(), s.Flows(), drops)
	}
	runErr := live.Run(env.Ctx, s, o.duration, count)
	count()
	select {
	case err := <-served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics server: %w", err)
		}
	default:
	}
	if runErr != nil {
		return runErr
	}
	return werr
}

// localAddrs are this host's addresses (in the namespace the command runs
// in): the peer of a flow is its other end.
func localAddrs() []netip.Addr {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
