// Package watch turns the findings of a live analysis (capture.Stream on
// capture.Live) into Prometheus metrics: a counter per finding code and
// peer, the peer aggregated to a prefix (/24 and /48 by default) and the
// number of distinct prefixes capped, so the series stay bounded however
// many hosts the link carries; and keeps the last findings for /findings.
// `mtukit watch` is its front end.
package watch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mtukit/mtukit/capture"
)

// Config tunes the metrics. The zero value takes the defaults.
type Config struct {
	// Prefix4 and Prefix6 are the prefix lengths peers are counted by
	// (default 24 and 48).
	Prefix4, Prefix6 int
	// MaxPeers caps the distinct peer prefixes with series (default 1000);
	// findings for further ones are counted under peer="other".
	MaxPeers int
	// Local are this host's addresses: the peer of a flow is its end that
	// is not one of them.
	Local []netip.Addr
	// Last is how many findings /findings keeps (default 100).
	Last int
}

// Metric and label names.
const (
	PeerOther = "other" // beyond MaxPeers
	PeerNone  = "none"  // a finding with no address (not seen on a live link today)
)

// Metrics counts findings and packets for one watch.
type Metrics struct {
	cfg      Config
	reg      *prometheus.Registry
	findings *prometheus.CounterVec

	packets, flows, drops atomic.Int64

	mu    sync.Mutex
	peers map[string]struct{}
	last  []capture.Event // ring
	next  int
}

// New checks cfg and returns the metrics, registered in a registry of
// their own (with the Go runtime's and the process's).
func New(cfg Config) (*Metrics, error) {
	if cfg.Prefix4 == 0 {
		cfg.Prefix4 = 24
	}
	if cfg.Prefix6 == 0 {
		cfg.Prefix6 = 48
	}
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 1000
	}
	if cfg.Last == 0 {
		cfg.Last = 100
	}
	switch {
	case cfg.Prefix4 < 0 || cfg.Prefix4 > 32:
		return nil, fmt.Errorf("prefix4 %d: want 0 to 32", cfg.Prefix4)
	case cfg.Prefix6 < 0 || cfg.Prefix6 > 128:
		return nil, fmt.Errorf("prefix6 %d: want 0 to 128", cfg.Prefix6)
	case cfg.MaxPeers < 0:
		return nil, fmt.Errorf("max-peers %d: want at least 1", cfg.MaxPeers)
	case cfg.Last < 0:
		return nil, fmt.Errorf("last %d: want at least 1", cfg.Last)
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry(), peers: map[string]struct{}{}}
	m.findings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mtukit_watch_findings_total",
		Help: "Findings of the live analysis, by finding code (mtukit analyze --help), severity and peer prefix (the flow's far end, aggregated).",
	}, []string{"code", "severity", "peer"})
	m.reg.MustRegister(m.findings,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mtukit_watch_packets_total", Help: "Packets analyzed."},
			func() float64 { return float64(m.packets.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mtukit_watch_flows", Help: "TCP flows tracked now."},
			func() float64 { return float64(m.flows.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mtukit_watch_kernel_dropped_packets_total", Help: "Packets the kernel dropped because the capture ring was full (not analyzed)."},
			func() float64 { return float64(m.drops.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mtukit_watch_peer_prefixes", Help: "Distinct peer prefixes with series (at most the configured maximum)."},
			func() float64 { m.mu.Lock(); defer m.mu.Unlock(); return float64(len(m.peers)) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m, nil
}

// Observe counts a finding and keeps it for /findings.
func (m *Metrics) Observe(e capture.Event) {
	peer := m.Peer(e.Finding.Flow)
	m.mu.Lock()
	if peer != PeerNone && peer != PeerOther {
		if _, ok := m.peers[peer]; !ok {
			if len(m.peers) >= m.cfg.MaxPeers {
				peer = PeerOther
			} else {
				m.peers[peer] = struct{}{}
			}
		}
	}
	if len(m.last) < m.cfg.Last {
		m.last = append(m.last, e)
	} else {
		m.last[m.next] = e
		m.next = (m.next + 1) % m.cfg.Last
	}
	m.mu.Unlock()
	m.findings.WithLabelValues(e.Finding.Code, e.Finding.Severity.String(), peer).Inc()
}

// SetCounts records the analysis's packet and flow counts and the
// kernel's drops (the watch loop calls it; scrapes read them).
func (m *Metrics) SetCounts(packets int64, flows int, drops uint64) {
	m.packets.Store(packets)
	m.flows.Store(int64(flows))
	m.drops.Store(int64(drops))
}

// Peer is the prefix a finding is counted under: from its flow ("sender >
// receiver", as capture.Finding has it), the end that is not a local
// address, or the receiver when both or neither are (the destination of
// the packets in trouble), masked to Prefix4 / Prefix6.
func (m *Metrics) Peer(flow string) string {
	s, r, ok := strings.Cut(flow, " > ")
	if !ok {
		return PeerNone
	}
	src, ok1 := addrOf(s)
	dst, ok2 := addrOf(r)
	var a netip.Addr
	switch {
	case ok2 && ok1 && m.local(dst) && !m.local(src):
		a = src
	case ok2:
		a = dst
	case ok1:
		a = src
	default:
		return PeerNone
	}
	bits := m.cfg.Prefix6
	if a.Is4() {
		bits = m.cfg.Prefix4
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return PeerNone
	}
	return p.String()
}

func (m *Metrics) local(a netip.Addr) bool {
	for _, l := range m.cfg.Local {
		if l == a {
			return true
		}
	}
	return false
}

// addrOf reads "10.0.0.1:80", "[2001:db8::1]:80" or a bare address.
func addrOf(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// Last returns the findings kept, oldest first.
func (m *Metrics) Last() []capture.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]capture.Event, 0, len(m.last))
	out = append(out, m.last[m.next:]...)
	return append(out, m.last[:m.next]...)
}

// Handler serves /metrics (Prometheus), /findings (the last findings as
// JSON lines) and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /findings", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, e := range m.Last() {
			enc.Encode(e)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<html><head><title>mtukit watch</title></head><body><h1>mtukit watch</h1><p><a href="metrics">metrics</a> · <a href="findings">last findings</a> (JSON lines)</p></body></html>` + "\n"))
	})
	return mux
}
