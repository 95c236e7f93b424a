package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/exporter"
)

type exporterOptions struct {
	config, listen string
	check          bool
	concurrency    int
	rate           float64
	maxPaths       int
	offset         time.Duration
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &exporterOptions{}
		c := &cobra.Command{
			Use:   "exporter",
			Short: "Prometheus exporter: path MTU, black holes and MSS clamps of the targets Prometheus names",
			Long: `exporter serves path MTU probes to Prometheus, in blackbox_exporter's
multi-target pattern: Prometheus names the target in each scrape and the
exporter probes it while Prometheus waits.

  GET /probe?target=HOST&module=NAME   one probe: probe_success, probe_duration_seconds,
                                       mtukit_path_mtu_bytes, mtukit_blackhole, ...
  GET /metrics                         the exporter's own metrics
  GET /healthz

HOST is an IPv4 address, an IPv6 address in brackets ([2001:db8::1]) or a name.
Modules come from --config (YAML; unknown keys are refused):

  allowed_targets: [192.0.2.0/24, "2001:db8::/32"]   # optional allow-list
  modules:
    udp:
      method: udp          # icmp (default), udp or tcp
      port: 4821           # the responder's (mtukit responder)
      timeout: 60s         # the whole probe, within the scrape timeout
    # more keys: token, min, max, stack, probe_timeout, family (ipv4|ipv6|any),
    # hops, search, retries, ptb_confirm, rate, socket, remember

Each path's last answer is remembered and re-validated first: an unchanged path
costs at most 2 probes per scrape, a change gets the full search. Probes
running at once, packets per second in total and remembered paths are bounded
by the flags below; see docs/monitor.md for fleets.`,
			Example: `  mtukit exporter --config mtukit.yml --listen :9799
  mtukit exporter --config mtukit.yml --check
  curl 'http://127.0.0.1:9799/probe?module=udp&target=192.0.2.10'`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runExporter(env, o) },
		}
		f := c.Flags()
		f.StringVar(&o.config, "config", "", "YAML file with the modules (required)")
		f.StringVar(&o.listen, "listen", "127.0.0.1:9799", "address to listen on (host:port; :9799 for every address)")
		f.BoolVar(&o.check, "check", false, "check the configuration and exit")
		f.IntVar(&o.concurrency, "concurrency", exporter.DefaultConcurrency, "probes running at once")
		f.Float64Var(&o.rate, "rate", exporter.DefaultRate, "probe packets per second in total (0: no limit)")
		f.IntVar(&o.maxPaths, "max-paths", exporter.DefaultMaxPaths, "answers remembered for re-validation (0: none)")
		f.DurationVar(&o.offset, "timeout-offset", exporter.DefaultTimeoutOffset, "taken off Prometheus's scrape timeout")
		return c
	})
}

func runExporter(env *Env, o *exporterOptions) error {
	switch {
	case o.concurrency < 1:
		return usagef("--concurrency %d: want at least 1", o.concurrency)
	case o.rate < 0:
		return usagef("--rate %v: want 0 (no limit) or more", o.rate)
	case o.maxPaths < 0:
		return usagef("--max-paths %d: want 0 (none) or more", o.maxPaths)
	case o.offset < 0:
		return usagef("--timeout-offset %s: want 0 or more", o.offset)
	}
	if o.config == "" {
		return usagef("--config: required (a YAML file with modules)")
	}
	cfg, err := exporter.LoadFile(o.config)
	if err != nil {
		return usagef("--config %v", err)
	}
	if o.check {
		fmt.Fprintf(env.Stdout, "%s: %d modules OK\n", o.config, len(cfg.Modules))
		return nil
	}
	opts := exporter.Options{Concurrency: o.concurrency, Rate: o.rate, MaxPaths: o.maxPaths, TimeoutOffset: o.offset,
		Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Version: Version}
	if o.rate == 0 {
		opts.Rate = -1
	}
	if o.maxPaths == 0 {
		opts.MaxPaths = -1
	}
	if o.offset == 0 {
		opts.TimeoutOffset = time.Nanosecond
	}
	s, err := exporter.New(cfg, opts)
	if err != nil {
		return usagef("%v", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(env.Stderr, "mtukit exporter: listening on http://%s/ (modules: %v)\n", ln.Addr(), cfg.ModuleNames())
	return serveUntilDone(env.Ctx, srv, ln)
}
