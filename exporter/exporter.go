package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mtukit/mtukit/probe"
)

// ProbeFunc runs one probe; probe.Run is the real one (tests and the lab
// substitute theirs, e.g. to run it inside a network namespace).
type ProbeFunc func(ctx context.Context, o probe.Options) (*probe.Report, error)

// Options are the exporter's limits and seams. Zero fields take the
// defaults noted.
type Options struct {
	// Concurrency is the most probes running at once; 256. Requests over
	// it wait (within their scrape timeout), then get 503.
	Concurrency int
	// Rate is the most probe packets per second the exporter sends in
	// total (a debt-based bucket, see pacer); 1000. Negative: no limit.
	Rate float64
	// Burst is the bucket's depth; Rate (at least 10).
	Burst int
	// MaxPaths is the most remembered answers (module x address); 100000.
	// Negative: remember nothing.
	MaxPaths int
	// TimeoutOffset is taken off Prometheus's scrape timeout so the answer
	// arrives in time; 0.5s.
	TimeoutOffset time.Duration
	// Resolver resolves target names; net.DefaultResolver.
	Resolver Resolver
	// Probe runs a probe; probe.Run.
	Probe ProbeFunc
	// Logger receives one line per failed probe; nothing when nil.
	Logger *slog.Logger
	// Version is reported by mtukit_exporter_build_info.
	Version string
}

// Defaults of Options.
const (
	DefaultConcurrency   = 256
	DefaultRate          = 1000
	DefaultMaxPaths      = 100000
	DefaultTimeoutOffset = 500 * time.Millisecond
)

// Server is the exporter: /probe runs one probe per request with a fresh
// registry (blackbox_exporter's multi-target pattern), so a scrape returns
// only its own target's series; /metrics has the exporter's own.
type Server struct {
	cfg   *Config
	o     Options
	slots slots
	paths paths
	pace  *pacer
	mem   *memory
	reg   *prometheus.Registry
	m     ownMetrics
}

type ownMetrics struct {
	probes, failures, packets *prometheus.CounterVec
	revalidations, rejected   *prometheus.CounterVec
	inFlight                  prometheus.Gauge
	duration                  *prometheus.HistogramVec
}

// New builds an exporter for a checked configuration (Parse, LoadFile).
func New(cfg *Config, o Options) (*Server, error) {
	if cfg == nil || len(cfg.Modules) == 0 {
		return nil, errors.New("no modules")
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Concurrency < 0 {
		return nil, fmt.Errorf("concurrency %d: want at least 1", o.Concurrency)
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Burst == 0 {
		o.Burst = max(int(o.Rate), 10)
	}
	if o.MaxPaths == 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	if o.TimeoutOffset == 0 {
		o.TimeoutOffset = DefaultTimeoutOffset
	}
	if o.TimeoutOffset < 0 {
		return nil, fmt.Errorf("timeout offset %s: want at least 0", o.TimeoutOffset)
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Probe == nil {
		o.Probe = probe.Run
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, o: o, slots: make(slots, o.Concurrency), pace: newPacer(max(o.Rate, 0), o.Burst), mem: newMemory(o.MaxPaths)}
	s.reg = prometheus.NewRegistry()
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	s.m = ownMetrics{
		probes:        f("mtukit_exporter_probes_total", "Probes run, by module.", "module"),
		failures:      f("mtukit_exporter_probe_failures_total", "Probes that found no path MTU (probe_success 0), by module.", "module"),
		packets:       f("mtukit_exporter_packets_sent_total", "Probe packets sent, by module.", "module"),
		revalidations: f("mtukit_exporter_revalidations_total", "Probes that started from a remembered answer, by module and result (steady: confirmed with at most 2 probes; changed: searched again).", "module", "result"),
		rejected:      f("mtukit_exporter_requests_rejected_total", "Probe requests refused, by reason (module, target, busy, header).", "reason"),
		inFlight:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "mtukit_exporter_probes_in_flight", Help: "Probes running now."}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mtukit_exporter_probe_duration_seconds", Help: "Time a probe took, by module.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120}}, []string{"module"}),
	}
	for _, name := range cfg.ModuleNames() {
		s.m.probes.WithLabelValues(name)
		s.m.failures.WithLabelValues(name)
		s.m.packets.WithLabelValues(name)
	}
	s.reg.MustRegister(s.m.probes, s.m.failures, s.m.packets, s.m.revalidations, s.m.rejected, s.m.inFlight, s.m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mtukit_exporter_remembered_paths", Help: "Answers remembered for re-validation (module x address)."},
			func() float64 { return float64(s.mem.len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mtukit_exporter_build_info", Help: "1, labelled with the exporter's version.",
			ConstLabels: prometheus.Labels{"version": o.Version, "goversion": runtime.Version()}}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return s, nil
}

// Handler routes /probe, /metrics, /healthz and a landing page.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/probe", s.probe)
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "mtukit exporter %s\n\n  /probe?target=HOST&module=NAME  one path MTU probe (modules: %s)\n  /metrics                        the exporter's own metrics\n  /healthz\n",
			s.o.Version, strings.Join(s.cfg.ModuleNames(), ", "))
	})
	return mux
}

// reject answers a refused request with a one-line message.
func (s *Server) reject(w http.ResponseWriter, code int, reason string, err error) {
	s.m.rejected.WithLabelValues(reason).Inc()
	http.Error(w, err.Error(), code)
}

// budget is how long a probe may take: the scrape timeout Prometheus sends
// less the offset, within the module's timeout.
func (s *Server) budget(r *http.Request, m *Module) (time.Duration, error) {
	d := time.Duration(m.Timeout)
	h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if h == "" {
		return d, nil
	}
	secs, err := strconv.ParseFloat(h, 64)
	if err != nil || !(secs > 0) || secs > 1e6 {
		return 0, fmt.Errorf("X-Prometheus-Scrape-Timeout-Seconds %q: want a positive number of seconds", h)
	}
	t := time.Duration(secs * float64(time.Second))
	if t > s.o.TimeoutOffset {
		t -= s.o.TimeoutOffset
	}
	return min(d, t), nil
}

func (s *Server) probe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("module")
	m, ok := s.cfg.Modules[name]
	if !ok {
		msg := fmt.Errorf("unknown module %q (have: %s)", name, strings.Join(s.cfg.ModuleNames(), ", "))
		if name == "" {
			msg = fmt.Errorf("no module: want ?module=NAME (have: %s)", strings.Join(s.cfg.ModuleNames(), ", "))
		}
		s.reject(w, http.StatusBadRequest, "module", msg)
		return
	}
	budget, err := s.budget(r, m)
	if err != nil {
		s.reject(w, http.StatusBadRequest, "header", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()
	target := q.Get("target")
	addr, err := resolve(ctx, s.o.Resolver, target, m.Family, s.cfg.AllowedTargets)
	if err != nil {
		s.reject(w, http.StatusBadRequest, "target", err)
		return
	}
	if !s.slots.acquire(ctx) {
		s.reject(w, http.StatusServiceUnavailable, "busy", fmt.Errorf("busy: %d probes running; none ended within the scrape timeout", cap(s.slots)))
		return
	}
	defer s.slots.release()
	if !s.paths.acquire(ctx, addr) {
		s.reject(w, http.StatusServiceUnavailable, "busy", fmt.Errorf("busy: the probe already running towards %s did not end within the scrape timeout", addr))
		return
	}
	defer s.paths.release(addr)
	if !s.pace.start(ctx) {
		s.reject(w, http.StatusServiceUnavailable, "busy", errors.New("busy: over the exporter's packet rate (--rate) for the whole scrape timeout"))
		return
	}
	s.m.inFlight.Inc()
	key := memKey{addr: addr, module: m}
	o := m.options(target, addr, budget)
	if dl, ok := ctx.Deadline(); ok {
		o.MaxDuration = max(time.Until(dl), time.Millisecond)
	}
	if *m.Remember {
		o.Prior = s.mem.get(key)
	}
	start := time.Now()
	rep, err := s.o.Probe(ctx, o)
	took := time.Since(start)
	s.m.inFlight.Dec()
	sent := 0
	if rep != nil {
		sent = rep.ProbesSent + hopsProbes(rep)
	}
	s.pace.done(sent)

	s.m.probes.WithLabelValues(name).Inc()
	s.m.packets.WithLabelValues(name).Add(float64(sent))
	s.m.duration.WithLabelValues(name).Observe(took.Seconds())
	ok = err == nil && rep != nil && rep.PMTU > 0
	if !ok {
		s.m.failures.WithLabelValues(name).Inc()
		s.o.Logger.Warn("probe failed", "module", name, "target", target, "addr", addr, "err", err)
	}
	if o.Prior.PMTU > 0 {
		result := "changed"
		if ok && rep.Revalidated {
			result = "steady"
		}
		s.m.revalidations.WithLabelValues(name, result).Inc()
	}
	if ok && *m.Remember {
		s.mem.put(key, probe.Prior{PMTU: rep.PMTU, Blackhole: rep.Blackhole})
	}
	reg := prometheus.NewRegistry()
	register(reg, m, addr.Is4(), rep, ok, took)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

func hopsProbes(rep *probe.Report) int {
	if rep.Hops != nil {
		return rep.Hops.Probes
	}
	return 0
}
