//go:build linux

package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/probe"
)

// Lab timings: Prometheus scrapes every 3 s with a 3 s timeout, so a probe
// has 2.7 s (0.3 s offset); probes time out after 200 ms in the namespaces.
const (
	labInterval = 3 * time.Second
	labPort     = 4821
)

// TestLabPrometheus is issue 15's proof with real parts: Debian's
// Prometheus, started on a temporary directory, scrapes the exporter, which
// probes two namespace paths with the udp method (a responder on each far
// end): one with an odd MTU behind a black hole, one at 1500. Through
// Prometheus's HTTP API the test reads the path MTUs (exact) and the black
// hole flags; then the bottleneck shrinks to a smaller odd MTU, and within
// two scrapes Prometheus shows it and the PathMTUDropped rule of
// deploy/prometheus fires.
func TestLabPrometheus(t *testing.T) {
	netlab.Require(t, "nft", "prometheus")
	promBin, _ := exec.LookPath("prometheus")

	// client -> router -> s1 (1333, the router drops PTBs: a black hole)
	//                  -> s2 (1500)
	lab := netlab.New(t)
	c, r, s1, s2 := lab.Host("client"), lab.Host("router"), lab.Host("s1"), lab.Host("s2")
	lab.Link(c, r, netlab.LinkOpts{MTU: 1500, NameA: "eth0", NameB: "eth0", AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24"})
	lab.Link(r, s1, netlab.LinkOpts{MTU: 1333, NameA: "eth1", NameB: "eth0", AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24"})
	lab.Link(r, s2, netlab.LinkOpts{MTU: 1500, NameA: "eth2", NameB: "eth0", AddrA: "10.0.3.1/24", AddrB: "10.0.3.2/24"})
	r.Forwarding(true)
	c.Route("default", "10.0.1.2")
	s1.Route("default", "10.0.2.1")
	s2.Route("default", "10.0.3.1")
	r.DropPTB()
	for _, s := range []*netlab.Host{s1, s2} {
		resp := &probe.Responder{Listen: netip.AddrPortFrom(netip.IPv4Unspecified(), labPort), Rate: 10000, Burst: 10000}
		if err := s.Do(func() error { return resp.Open(context.Background()) }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { resp.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}

	// The exporter listens on loopback; its probes run in the client.
	cfg, err := Parse([]byte(fmt.Sprintf(`
allowed_targets: [10.0.0.0/16]
modules:
  udp:
    method: udp
    port: %d
    probe_timeout: 200ms
    rate: 1000
    timeout: 20s
`, labPort)))
	if err != nil {
		t.Fatal(err)
	}
	inClient := func(ctx context.Context, o probe.Options) (rep *probe.Report, err error) {
		if derr := c.Do(func() error { rep, err = probe.Run(ctx, o); return nil }); derr != nil {
			return nil, derr
		}
		return rep, err
	}
	srv, err := New(cfg, Options{Probe: inClient, TimeoutOffset: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	// Prometheus: the shipped rules with `for` cut to 0 (the expressions
	// are what is tested here; promtool tests the durations), evaluated
	// every second.
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join(deployDir, "mtukit-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+)for: \S+$`).ReplaceAll(rules, []byte("${1}for: 0s"))
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	promCfg := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: mtukit
    metrics_path: /probe
    params: {module: [udp]}
    static_configs:
      - targets: ["10.0.2.2", "10.0.3.2"]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {source_labels: [__param_module], target_label: module}
      - {target_label: __address__, replacement: "%[2]s"}
  - job_name: mtukit_exporter
    static_configs: [{targets: ["%[2]s"]}]
`, labInterval, ln.Addr())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prom := exec.CommandContext(ctx, promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	var promLog strings.Builder
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		prom.Process.Kill()
		prom.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", tail(promLog.String(), 3000))
		}
	})
	api := "http://" + promAddr

	// Both paths, exact, through Prometheus.
	waitFor(t, 60*time.Second, "both path MTUs in Prometheus", func() (bool, string) {
		v := query(t, api, `mtukit_path_mtu_bytes`)
		return v["10.0.2.2"] == 1333 && v["10.0.3.2"] == 1500, fmt.Sprint(v)
	})
	bh := query(t, api, `mtukit_blackhole`)
	if bh["10.0.2.2"] != 1 || bh["10.0.3.2"] != 0 {
		t.Errorf("mtukit_blackhole %v, want 10.0.2.2 1 and 10.0.3.2 0", bh)
	}
	// Later scrapes re-validate: at most 2 probes each, same answers.
	waitFor(t, 30*time.Second, "a re-validated scrape of both paths", func() (bool, string) {
		v := query(t, api, `mtukit_revalidated`)
		return v["10.0.2.2"] == 1 && v["10.0.3.2"] == 1, fmt.Sprint(v)
	})
	sent := query(t, api, `mtukit_probes_sent`)
	if sent["10.0.2.2"] > 2 || sent["10.0.3.2"] > 1 {
		t.Errorf("re-validation sent %v probes, want at most 2 and 1", sent)
	}
	if v := query(t, api, `mtukit_path_mtu_bytes`); v["10.0.2.2"] != 1333 || query(t, api, `mtukit_blackhole`)["10.0.2.2"] != 1 {
		t.Errorf("after re-validation: %v", v)
	}
	if a := firing(t, api); a["PathMTUBlackHole"] != "10.0.2.2" || a["PathMTUDropped"] != "" {
		t.Errorf("alerts before the change: %v", a)
	}

	// The bottleneck shrinks to another odd MTU.
	r.SetMTU("eth1", 1291)
	s1.SetMTU("eth0", 1291)
	changed := time.Now()
	waitFor(t, 2*labInterval+4*time.Second, "the new path MTU within two scrapes", func() (bool, string) {
		v := query(t, api, `mtukit_path_mtu_bytes{instance="10.0.2.2"}`)
		return v["10.0.2.2"] == 1291, fmt.Sprint(v)
	})
	t.Logf("Prometheus showed 1291 %.1f s after the change (scrape interval %s)", time.Since(changed).Seconds(), labInterval)
	// Count the scrapes: the first or the second that started after the
	// change has the new value.
	var series struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if !apiGet(t, api+"/api/v1/query?query="+url.QueryEscape(`mtukit_path_mtu_bytes{instance="10.0.2.2"}[1m]`), &series) || len(series.Data.Result) != 1 {
		t.Fatalf("range query: %+v", series)
	}
	n := 0
	for _, v := range series.Data.Result[0].Values {
		ts, _ := v[0].(float64)
		if ts < float64(changed.UnixMilli())/1000 {
			continue
		}
		n++
		if v[1] == "1291" {
			break
		}
		if v[1] != "1333" {
			t.Errorf("scrape %d after the change: %v", n, v[1])
		}
	}
	t.Logf("1291 came with scrape %d after the change", n)
	if n < 1 || n > 2 {
		t.Errorf("the new path MTU came with scrape %d after the change, want the first or second", n)
	}
	waitFor(t, 10*time.Second, "PathMTUDropped firing", func() (bool, string) {
		a := firing(t, api)
		return a["PathMTUDropped"] == "10.0.2.2", fmt.Sprint(a)
	})
	t.Logf("PathMTUDropped fired %.1f s after the change", time.Since(changed).Seconds())
	if v := query(t, api, `mtukit_path_mtu_bytes{instance="10.0.3.2"}`); v["10.0.3.2"] != 1500 {
		t.Errorf("the clean path moved: %v", v)
	}
	t.Logf("longest probe %v s, most probes %v in the last minute; exporter failures %v",
		query(t, api, `max_over_time(probe_duration_seconds{instance="10.0.2.2"}[1m])`)["10.0.2.2"],
		query(t, api, `max_over_time(mtukit_probes_sent{instance="10.0.2.2"}[1m])`)["10.0.2.2"],
		query(t, api, `sum(mtukit_exporter_probe_failures_total)`)[""])
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitFor polls cond every 300 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(d)
	last := ""
	for time.Now().Before(end) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no %s within %s (last: %s)", what, d, last)
}

func apiGet(t *testing.T, u string, out any) bool {
	t.Helper()
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		return false // Prometheus still starting
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable {
		return false // Prometheus still starting
	}
	if resp.StatusCode != 200 {
		t.Logf("%s: %d %s", u, resp.StatusCode, b)
		return false
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return true
}

// query runs an instant query and returns the value per instance label
// ("" for a series without one).
func query(t *testing.T, api, q string) map[string]float64 {
	t.Helper()
	var res struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	out := map[string]float64{}
	if !apiGet(t, api+"/api/v1/query?query="+url.QueryEscape(q), &res) {
		return out
	}
	for _, r := range res.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: value %v", q, r.Value)
		}
		out[r.Metric["instance"]] = v
	}
	return out
}

// firing returns the firing alerts of job mtukit: alert name -> instance.
func firing(t *testing.T, api string) map[string]string {
	t.Helper()
	var res struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	out := map[string]string{}
	if !apiGet(t, api+"/api/v1/alerts", &res) {
		return out
	}
	for _, a := range res.Data.Alerts {
		if a.State == "firing" && a.Labels["job"] == "mtukit" {
			out[a.Labels["alertname"]] += a.Labels["instance"]
		}
	}
	return out
}
