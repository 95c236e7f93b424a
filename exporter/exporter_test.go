package exporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/probe"
)

// simPaths is a fake network for the exporter: per address a path MTU and
// whether PTBs come back. Its prober drives the real plpmtud search (with
// the prior as Config.Known, as package probe does) over that path without
// sockets, so probe counts are the search's own.
type simPaths struct {
	mu    sync.Mutex
	paths map[netip.Addr]simPath
	calls []probe.Options
}

type simPath struct {
	mtu int
	ptb bool
}

func (p *simPaths) set(addr string, mtu int, ptb bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paths == nil {
		p.paths = map[netip.Addr]simPath{}
	}
	p.paths[netip.MustParseAddr(addr)] = simPath{mtu, ptb}
}

func (p *simPaths) probe(ctx context.Context, o probe.Options) (*probe.Report, error) {
	p.mu.Lock()
	path, ok := p.paths[o.Addr]
	p.calls = append(p.calls, o)
	p.mu.Unlock()
	rep := &probe.Report{Target: o.Target, Addr: o.Addr.String(), Method: o.Method, Search: o.Search}
	if !ok {
		return rep, probe.ErrMinLost
	}
	min, max := 1200, 1500
	if o.Addr.Is6() {
		min = 1280
	}
	s, err := plpmtud.New(o.Search, plpmtud.Config{Min: min, Max: max, Known: o.Prior.PMTU})
	if err != nil {
		return nil, err
	}
	for !s.Done() {
		var round []int
		for {
			size, ok := s.Next(0)
			if !ok {
				break
			}
			round = append(round, size)
		}
		if len(round) == 0 {
			return rep, fmt.Errorf("stalled")
		}
		for _, size := range round {
			rep.ProbesSent++
			switch {
			case size <= path.mtu:
				rep.ProbesAcked++
				s.OnAck(size, 0)
			case path.ptb:
				rep.PTBReceived++
				s.OnPTB(size, path.mtu, 0)
			default:
				rep.ProbesLost++
				s.OnLoss(size, 0)
			}
		}
	}
	rep.PMTU = s.Estimate()
	rep.Revalidated = plpmtud.Revalidated(s)
	rep.Blackhole = !path.ptb && path.mtu < max
	if !rep.Revalidated || !o.Prior.Blackhole {
		// the verdict's retries, as package probe sends them
		if rep.Blackhole {
			rep.ProbesSent += o.Retries - 1
			rep.ProbesLost += o.Retries - 1
		}
	}
	c, err := advise.Calc(advise.Options{Stack: o.Stack, LinkMTU: rep.PMTU})
	if err != nil {
		return rep, err
	}
	rep.Recommended = &probe.Recommendation{Stack: c.Stack, LinkMTU: rep.PMTU, TunnelMTU: c.TunnelMTU, MSS: c.MSS}
	return rep, ctx.Err()
}

func newTestServer(t *testing.T, cfgText string, o Options) (*httptest.Server, *Server) {
	t.Helper()
	cfg, err := Parse([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	if o.Resolver == nil {
		o.Resolver = testResolver
	}
	s, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, s
}

// scrape GETs path and parses the answer; code is the HTTP status, body
// the text when it is not 200.
func scrape(t *testing.T, ts *httptest.Server, path string, header ...string) (map[string]*dto.MetricFamily, int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, resp.StatusCode, string(b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return fams, 200, string(b)
}

// value is the one sample of a family with the given labels ("k=v", ...);
// ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if !slices.ContainsFunc(m.Label, func(lp *dto.LabelPair) bool { return lp.GetName() == k && lp.GetValue() == v }) {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func must(t *testing.T, fams map[string]*dto.MetricFamily, name string, want float64, labels ...string) {
	t.Helper()
	v, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v missing", name, labels)
		return
	}
	if v != want {
		t.Errorf("%s%v = %g, want %g", name, labels, v, want)
	}
}

const testConfig = `
allowed_targets: [192.0.2.0/24, "2001:db8::/32"]
modules:
  udp:
    method: udp
    port: 4821
    timeout: 60s
  wg:
    method: udp
    stack: wireguard
    remember: false
`

func TestProbeSeriesAndRevalidation(t *testing.T) {
	net := &simPaths{}
	net.set("192.0.2.10", 1333, false) // odd MTU behind a black hole
	net.set("192.0.2.20", 1500, false)
	ts, _ := newTestServer(t, testConfig, Options{Probe: net.probe})

	fams, code, body := scrape(t, ts, "/probe?module=udp&target=192.0.2.10")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	must(t, fams, "probe_success", 1)
	must(t, fams, "mtukit_path_mtu_bytes", 1333)
	must(t, fams, "mtukit_blackhole", 1)
	must(t, fams, "mtukit_revalidated", 0)
	must(t, fams, "probe_ip_protocol", 4)
	must(t, fams, "mtukit_probe_info", 1, "method=udp", "search=mtukit")
	// calc's numbers over 1333: 1333-40 and 1333-60.
	must(t, fams, "mtukit_recommended_mss_bytes", 1293, "family=ipv4")
	must(t, fams, "mtukit_recommended_mss_bytes", 1273, "family=ipv6")
	first, _ := value(fams, "mtukit_probes_sent")
	if first <= 2 {
		t.Errorf("first search took %g probes: nothing to re-validate yet", first)
	}
	// Only this probe's series: nothing about the other target, no
	// exporter counters, no mss series for the udp method.
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"mtukit_blackhole", "mtukit_path_mtu_bytes", "mtukit_probe_info", "mtukit_probes_lost", "mtukit_probes_sent",
		"mtukit_ptb_ignored", "mtukit_ptb_received", "mtukit_recommended_mss_bytes", "mtukit_recommended_mtu_bytes", "mtukit_revalidated",
		"probe_duration_seconds", "probe_ip_protocol", "probe_success"}
	if !slices.Equal(names, want) {
		t.Errorf("series %v\nwant   %v", names, want)
	}

	// Steady: at most 2 probes per scrape, same answer.
	for i := range 3 {
		fams, _, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.10")
		must(t, fams, "mtukit_path_mtu_bytes", 1333)
		must(t, fams, "mtukit_blackhole", 1)
		must(t, fams, "mtukit_revalidated", 1)
		if n, _ := value(fams, "mtukit_probes_sent"); n > 2 {
			t.Errorf("steady scrape %d: %g probes", i, n)
		}
	}
	// The path shrinks to another odd MTU: found exactly on the next scrape.
	net.set("192.0.2.10", 1291, false)
	fams, _, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.10")
	must(t, fams, "mtukit_path_mtu_bytes", 1291)
	must(t, fams, "mtukit_revalidated", 0)
	fams, _, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.10")
	must(t, fams, "mtukit_path_mtu_bytes", 1291)
	must(t, fams, "mtukit_probes_sent", 2)
	// The clean path: one probe at Max once known.
	fams, _, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.20")
	must(t, fams, "mtukit_path_mtu_bytes", 1500)
	must(t, fams, "mtukit_blackhole", 0)
	fams, _, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.20")
	must(t, fams, "mtukit_probes_sent", 1)
	// A module that does not remember searches every time; its stack
	// changes the advice (WireGuard over IPv4: 60 bytes).
	for range 2 {
		fams, _, _ = scrape(t, ts, "/probe?module=wg&target=192.0.2.20")
		must(t, fams, "mtukit_revalidated", 0)
		must(t, fams, "mtukit_recommended_mtu_bytes", 1440)
	}

	own, code, _ := scrape(t, ts, "/metrics")
	if code != 200 {
		t.Fatal(code)
	}
	must(t, own, "mtukit_exporter_probes_total", 8, "module=udp")
	must(t, own, "mtukit_exporter_probes_total", 2, "module=wg")
	must(t, own, "mtukit_exporter_revalidations_total", 5, "module=udp", "result=steady")
	must(t, own, "mtukit_exporter_revalidations_total", 1, "module=udp", "result=changed")
	must(t, own, "mtukit_exporter_remembered_paths", 2)
	must(t, own, "mtukit_exporter_probes_in_flight", 0)
	must(t, own, "mtukit_exporter_probe_failures_total", 0, "module=udp")
	sent, _ := value(own, "mtukit_exporter_packets_sent_total", "module=udp")
	if sent < first+3*2+2+1 {
		t.Errorf("packets_sent_total %g", sent)
	}
	if _, ok := value(own, "go_goroutines"); !ok {
		t.Error("no go collector")
	}
}

func TestBadInput(t *testing.T) {
	net := &simPaths{}
	net.set("192.0.2.10", 1400, true)
	ts, _ := newTestServer(t, testConfig, Options{Probe: net.probe})
	cases := []struct{ name, query, want string }{
		{"unknown module", "module=icmp&target=192.0.2.10", `unknown module "icmp" (have: udp, wg)`},
		{"no module", "target=192.0.2.10", "no module: want ?module=NAME"},
		{"no target", "module=udp", "empty: want ?target=HOST"},
		{"does not resolve", "module=udp&target=nowhere.example", `target "nowhere.example": does not resolve`},
		{"ipv6 without brackets", "module=udp&target=2001:db8::1", "an IPv6 literal needs brackets: [2001:db8::1]"},
		{"not allowed", "module=udp&target=198.51.100.1", "198.51.100.1 is not in allowed_targets"},
		{"name outside the list", "module=udp&target=split.example", "203.0.113.40 is not in allowed_targets"},
		{"a port", "module=udp&target=192.0.2.10:53", "a port is not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, code, body := scrape(t, ts, "/probe?"+tc.query)
			if code != 400 || !strings.Contains(body, tc.want) || strings.Count(body, "\n") != 1 {
				t.Errorf("%d %q, want 400 with %q on one line", code, body, tc.want)
			}
		})
	}
	_, code, body := scrape(t, ts, "/probe?module=udp&target=192.0.2.10", "X-Prometheus-Scrape-Timeout-Seconds", "soon")
	if code != 400 || !strings.Contains(body, "X-Prometheus-Scrape-Timeout-Seconds") {
		t.Errorf("bad header: %d %q", code, body)
	}
	if n := len(net.calls); n != 0 {
		t.Errorf("%d probes ran for bad requests", n)
	}
	// The exporter still serves good requests.
	fams, code, _ := scrape(t, ts, "/probe?module=udp&target=192.0.2.10")
	if code != 200 {
		t.Fatal(code)
	}
	must(t, fams, "mtukit_path_mtu_bytes", 1400)
	must(t, fams, "mtukit_blackhole", 0)
	own, _, _ := scrape(t, ts, "/metrics")
	must(t, own, "mtukit_exporter_requests_rejected_total", 6, "reason=target")
	must(t, own, "mtukit_exporter_requests_rejected_total", 2, "reason=module")
	must(t, own, "mtukit_exporter_requests_rejected_total", 1, "reason=header")
	// A path with no answer is a failed probe, not an HTTP error.
	fams, code, _ = scrape(t, ts, "/probe?module=udp&target=192.0.2.99")
	if code != 200 {
		t.Fatal(code)
	}
	must(t, fams, "probe_success", 0)
	if _, ok := value(fams, "mtukit_path_mtu_bytes"); ok {
		t.Error("a failed probe reports a path MTU")
	}
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

// blockingProber holds probes to some addresses until released or their
// context ends, and answers the others at once.
type blockingProber struct {
	block   map[netip.Addr]chan struct{}
	started chan netip.Addr
	mu      sync.Mutex
	budgets []time.Duration
}

func (b *blockingProber) probe(ctx context.Context, o probe.Options) (*probe.Report, error) {
	b.mu.Lock()
	b.budgets = append(b.budgets, o.MaxDuration)
	b.mu.Unlock()
	if b.started != nil {
		b.started <- o.Addr
	}
	if ch, ok := b.block[o.Addr]; ok {
		select {
		case <-ch:
		case <-ctx.Done():
			return &probe.Report{ProbesSent: 3}, ctx.Err()
		}
	}
	return &probe.Report{PMTU: 1500, ProbesSent: 1, ProbesAcked: 1}, nil
}

func TestScrapeTimeoutBoundsTheProbe(t *testing.T) {
	slow := netip.MustParseAddr("192.0.2.66")
	bp := &blockingProber{block: map[netip.Addr]chan struct{}{slow: make(chan struct{})}}
	ts, _ := newTestServer(t, testConfig, Options{Probe: bp.probe, TimeoutOffset: 200 * time.Millisecond})
	start := time.Now()
	fams, code, _ := scrape(t, ts, "/probe?module=udp&target=192.0.2.66", "X-Prometheus-Scrape-Timeout-Seconds", "0.7")
	took := time.Since(start)
	if code != 200 {
		t.Fatal(code)
	}
	must(t, fams, "probe_success", 0)
	must(t, fams, "mtukit_probes_sent", 3)
	if took < 400*time.Millisecond || took > 3*time.Second {
		t.Errorf("the probe took %v with a 0.7 s scrape timeout and 0.2 s offset", took)
	}
	if b := bp.budgets[0]; b > 500*time.Millisecond || b < 300*time.Millisecond {
		t.Errorf("probe budget %v, want 0.5 s", b)
	}
	// Without the header: the module's 60 s.
	scrape(t, ts, "/probe?module=udp&target=192.0.2.1")
	if b := bp.budgets[1]; b < 59*time.Second || b > 60*time.Second {
		t.Errorf("budget without header %v, want 60 s", b)
	}
}

func TestSlowTargetDoesNotBlockOthers(t *testing.T) {
	slow := netip.MustParseAddr("192.0.2.66")
	release := make(chan struct{})
	bp := &blockingProber{block: map[netip.Addr]chan struct{}{slow: release}, started: make(chan netip.Addr, 10)}
	ts, _ := newTestServer(t, testConfig, Options{Probe: bp.probe, Concurrency: 2})
	done := make(chan int, 2)
	go func() { _, code, _ := scrape(t, ts, "/probe?module=udp&target=192.0.2.66"); done <- code }()
	<-bp.started
	// Another target answers while the slow one runs.
	fams, code, _ := scrape(t, ts, "/probe?module=udp&target=192.0.2.1")
	if code != 200 {
		t.Fatal(code)
	}
	must(t, fams, "probe_success", 1)
	// A second probe towards the slow target waits for the first (one
	// search per destination) and gives up at its deadline with 503.
	_, code, body := scrape(t, ts, "/probe?module=udp&target=192.0.2.66", "X-Prometheus-Scrape-Timeout-Seconds", "0.8")
	if code != 503 || !strings.Contains(body, "192.0.2.66") {
		t.Errorf("second probe to the busy path: %d %q", code, body)
	}
	close(release)
	if c := <-done; c != 200 {
		t.Errorf("slow probe: %d", c)
	}
}

func TestConcurrencyBound(t *testing.T) {
	release := make(chan struct{})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	bp := &blockingProber{block: map[netip.Addr]chan struct{}{a: release, b: release}, started: make(chan netip.Addr, 10)}
	ts, _ := newTestServer(t, testConfig, Options{Probe: bp.probe, Concurrency: 1})
	done := make(chan int, 1)
	go func() { _, code, _ := scrape(t, ts, "/probe?module=udp&target=192.0.2.1"); done <- code }()
	<-bp.started
	_, code, body := scrape(t, ts, "/probe?module=udp&target=192.0.2.2", "X-Prometheus-Scrape-Timeout-Seconds", "0.8")
	if code != 503 || !strings.Contains(body, "busy") {
		t.Errorf("over the concurrency: %d %q", code, body)
	}
	close(release)
	<-done
	own, _, _ := scrape(t, ts, "/metrics")
	must(t, own, "mtukit_exporter_requests_rejected_total", 1, "reason=busy")
}

// A module for both families with min 1200 probes IPv6 from 1280 (every
// IPv6 link carries it), so it does not fail on every IPv6 target.
func TestModuleMinPerFamily(t *testing.T) {
	net := &simPaths{}
	net.set("2001:db8::1", 1400, true)
	net.set("192.0.2.1", 1400, true)
	ts, _ := newTestServer(t, "modules:\n  icmp:\n    min: 1200\n", Options{Probe: net.probe})
	fams, _, _ := scrape(t, ts, "/probe?module=icmp&target=[2001:db8::1]")
	must(t, fams, "mtukit_path_mtu_bytes", 1400)
	must(t, fams, "probe_ip_protocol", 6)
	scrape(t, ts, "/probe?module=icmp&target=192.0.2.1")
	if got := []int{net.calls[0].Min, net.calls[1].Min}; got[0] != 1280 || got[1] != 1200 {
		t.Errorf("min per family %v, want [1280 1200]", got)
	}
}
