package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mtukit/mtukit/web"
)

type serveOptions struct {
	listen                               string
	rate, heavyRate                      float64
	maxUpload, maxUnpacked, maxPackets   int64
	maxHeavy, conns, maxFlows, maxTrials int
	maxIfaces                            int
	minUploadRate                        float64
}

func init() {
	register(func(env *Env) *cobra.Command {
		o := &serveOptions{}
		def := web.DefaultConfig()
		c := &cobra.Command{
			Use:   "serve",
			Short: "Serve the web page and the JSON API (calc, tput, sim, analyze)",
			Long: fmt.Sprintf(`serve runs mtukit's web page and its JSON API from this binary: every asset is
embedded, nothing loads from elsewhere, and no endpoint sends packets.

%s
It listens on loopback by default; put it behind a reverse proxy with TLS before
exposing it. Heavy work (tput, sim, analyze) runs on a bounded number of slots, each
client has a token-bucket rate limit, and slow or oversized requests are cut off.
An upload must average --min-upload-rate, and the work it may cause is bounded
(--max-unpacked, --max-packets, --max-interfaces, --max-flows; sim's --max-trials); a request over a
bound is refused with the bound and its flag named (docs/security.md).`, endpointHelp()),
			Example: `  mtukit serve
  mtukit serve --listen :8080 --rate-limit 50
  curl 'http://127.0.0.1:8080/api/v1/calc?stack=pppoe/esp(aes-gcm-16)/gre'`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runServe(env, o) },
		}
		f := c.Flags()
		f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
		f.Float64Var(&o.rate, "rate-limit", def.Rate, "requests per second per client, bursts of twice that (0: no limit)")
		f.Float64Var(&o.heavyRate, "heavy-rate-limit", def.HeavyRate, "tput/sim/analyze requests per second per client, bursts of 5x (0: no limit)")
		f.Int64Var(&o.maxUpload, "max-upload", def.MaxUpload, "largest capture upload in bytes")
		f.IntVar(&o.maxHeavy, "max-jobs", def.MaxHeavy, "tput/sim/analyze jobs running at once")
		f.IntVar(&o.conns, "max-conns-per-client", def.ConnsPerClient, "open connections per client address")
		f.Float64Var(&o.minUploadRate, "min-upload-rate", def.MinUploadRate, "bytes per second an upload must average after its first 2 s (slower: cut off, 408)")
		f.Int64Var(&o.maxUnpacked, "max-unpacked", def.MaxUnpacked, "bytes a gzip'd upload may decompress to")
		f.Int64Var(&o.maxPackets, "max-packets", def.MaxPackets, "packets an upload may hold")
		f.IntVar(&o.maxIfaces, "max-interfaces", def.MaxInterfaces, "pcapng interfaces an upload may declare in a section (at most 65535)")
		f.IntVar(&o.maxFlows, "max-flows", def.MaxFlows, "largest max-flows an analyze request may ask for")
		f.IntVar(&o.maxTrials, "max-trials", def.MaxTrials, "largest trials a sim request may ask for")
		return c
	})
}

func runServe(env *Env, o *serveOptions) error {
	cfg, err := serveConfig(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	srv := web.NewServer(o.listen, cfg)
	fmt.Fprintf(env.Stderr, "mtukit: serving on http://%s/\n", ln.Addr())
	return serveUntilDone(env.Ctx, srv, web.LimitListener(ln, cfg.ConnsPerClient))
}

// serveUntilDone serves HTTP on ln until the server fails or ctx ends, then
// shuts it down gracefully (5 s for requests in flight): serve's and the
// exporter's main loop.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ctx == nil {
		ctx = context.Background()
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

func serveConfig(o *serveOptions) (web.Config, error) {
	cfg := web.DefaultConfig()
	switch {
	case o.rate < 0:
		return cfg, usagef("--rate-limit %v: want 0 (off) or more", o.rate)
	case o.heavyRate < 0:
		return cfg, usagef("--heavy-rate-limit %v: want 0 (off) or more", o.heavyRate)
	case o.maxUpload < 1024:
		return cfg, usagef("--max-upload %d: want at least 1024 bytes", o.maxUpload)
	case o.maxHeavy < 1:
		return cfg, usagef("--max-jobs %d: want at least 1", o.maxHeavy)
	case o.conns < 1:
		return cfg, usagef("--max-conns-per-client %d: want at least 1", o.conns)
	case o.minUploadRate < 1:
		return cfg, usagef("--min-upload-rate %v: want at least 1 byte per second", o.minUploadRate)
	case o.maxUnpacked < 1024:
		return cfg, usagef("--max-unpacked %d: want at least 1024 bytes", o.maxUnpacked)
	case o.maxPackets < 1:
		return cfg, usagef("--max-packets %d: want at least 1", o.maxPackets)
	case o.maxIfaces < 1 || o.maxIfaces > 65535:
		return cfg, usagef("--max-interfaces %d: want 1..65535", o.maxIfaces)
	case o.maxFlows < 1:
		return cfg, usagef("--max-flows %d: want at least 1", o.maxFlows)
	case o.maxTrials < 1:
		return cfg, usagef("--max-trials %d: want at least 1", o.maxTrials)
	}
	cfg.MinUploadRate, cfg.MaxUnpacked, cfg.MaxPackets = o.minUploadRate, o.maxUnpacked, o.maxPackets
	cfg.MaxFlows, cfg.MaxTrials, cfg.MaxInterfaces = o.maxFlows, o.maxTrials, o.maxIfaces
	cfg.Rate, cfg.Burst = o.rate, 2*o.rate
	cfg.HeavyRate, cfg.HeavyBurst = o.heavyRate, 5*o.heavyRate
	cfg.MaxUpload, cfg.MaxHeavy, cfg.ConnsPerClient = o.maxUpload, o.maxHeavy, o.conns
	return cfg, nil
}

// endpointHelp lists the web's routes for --help, from its routes table.
func endpointHelp() string {
	var b strings.Builder
	for _, e := range web.Endpoints() {
		fmt.Fprintf(&b, "  %-4s %-22s %s\n", e.Method, e.Path, e.Help)
	}
	return b.String()
}
