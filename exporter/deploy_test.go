package exporter

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/probe"
)

const deployDir = "../deploy/prometheus"

// needTool skips without the command, unless MTUKIT_LAB=1 (CI installs
// Debian's prometheus package, which has promtool).
func needTool(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv(netlab.EnvVar) == "1" {
			t.Fatalf("%s not found and %s=1 requires it (apt-get install prometheus)", tool, netlab.EnvVar)
		}
		t.Skipf("%s not found (apt-get install prometheus)", tool)
	}
	return p
}

func TestDeployPromtool(t *testing.T) {
	promtool := needTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "mtukit-alerts.yml"},
		{"test", "rules", "mtukit-alerts.test.yml"},
		{"check", "config", "prometheus.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = deployDir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestDeployExporterConfig(t *testing.T) {
	c, err := LoadFile(filepath.Join(deployDir, "exporter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) != 4 || len(c.AllowedTargets) != 3 {
		t.Errorf("%d modules, %d allowed", len(c.Modules), len(c.AllowedTargets))
	}
}

// fullReport is a report with every optional part, so that a scrape shows
// every series the exporter can emit.
func fullProber(_ context.Context, o probe.Options) (*probe.Report, error) {
	return &probe.Report{PMTU: 1400, ProbesSent: 7, ProbesAcked: 4, ProbesLost: 3, PTBReceived: 1, Blackhole: true,
		MSSSent: 1460, MSSSeenByPeer: 1360, MSSClamped: true,
		Hops:        &probe.HopReport{Size: 1401, DropHop: 3},
		Recommended: &probe.Recommendation{LinkMTU: 1400, TunnelMTU: 1400}}, nil
}

// TestDeployNamesExist checks that every mtukit_ and probe_ series the
// rules and the dashboard query is one the exporter really emits.
func TestDeployNamesExist(t *testing.T) {
	ts, _ := newTestServer(t, "modules:\n  tcp:\n    method: tcp\n", Options{Probe: fullProber})
	emitted := map[string]bool{}
	fams, _, _ := scrape(t, ts, "/probe?module=tcp&target=192.0.2.1")
	own, _, _ := scrape(t, ts, "/metrics")
	for n := range fams {
		emitted[n] = true
	}
	for n, f := range own {
		emitted[n] = true
		if f.GetType().String() == "HISTOGRAM" {
			emitted[n+"_bucket"], emitted[n+"_sum"], emitted[n+"_count"] = true, true, true
		}
	}
	for _, want := range []string{"mtukit_mss_clamped", "mtukit_mss_seen_by_peer_bytes", "mtukit_drop_hop", "mtukit_recommended_mss_bytes"} {
		if !emitted[want] {
			t.Errorf("%s not emitted by a full report", want)
		}
	}
	names := regexp.MustCompile(`\b(?:mtukit|probe)_[a-z0-9_]+\b`)
	check := func(file, text string) {
		found := 0
		for _, ix := range names.FindAllStringIndex(text, -1) {
			n := text[ix[0]:ix[1]]
			if ix[1] < len(text) && text[ix[1]] == '"' || ix[0] > 0 && strings.ContainsRune("|\"", rune(text[ix[0]-1])) {
				continue // a label value such as job="mtukit_exporter"
			}
			found++
			if !emitted[n] {
				t.Errorf("%s uses %s, which the exporter does not emit", file, n)
			}
		}
		if found == 0 {
			t.Errorf("%s: no series found", file)
		}
	}
	rules, err := os.ReadFile(filepath.Join(deployDir, "mtukit-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, line := range strings.Split(string(rules), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "expr:") {
			exprs = append(exprs, l)
		}
	}
	check("mtukit-alerts.yml", strings.Join(exprs, "\n"))

	b, err := os.ReadFile(filepath.Join(deployDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var ids []int
	var all []string
	for _, p := range dash.Panels {
		ids = append(ids, p.ID)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			all = append(all, q.Expr)
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(dash.Panels) || dash.UID == "" {
		t.Errorf("panel ids %v, uid %q", ids, dash.UID)
	}
	check("grafana-dashboard.json", strings.Join(all, "\n"))
}
