package cli

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
)

// TestSimGolden: the exact table and JSON for a small comparison, reviewed
// by hand (go test ./internal/cli -run TestSimGolden -update rewrites them).
func TestSimGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"gre-loss1", []string{"--exact", "--strategy", "mtukit,binary,rfc8899,quic-go,linux-tcp", "--tunnel", "gre", "--loss", "0.01"}},
		{"seed-steps", []string{"--exact", "--strategy", "linear,binary,hybrid", "--step", "seed", "--pmtu", "1420", "--loss", "0.02"}},
		{"forged-ptb", []string{"--exact", "--strategy", "mtukit,rfc8899,linux-tcp,freebsd-sctp", "--pmtu", "1450", "--icmp", "1", "--forge", "0.1"}},
		{"forged-ptb-confirm2", []string{"--exact", "--strategy", "mtukit", "--pmtu", "1450", "--icmp", "1", "--forge", "0.1", "--ptb-confirm", "2"}},
		{"icmp-mix", []string{"--exact", "--strategy", "mtukit,rfc8899,freebsd-sctp,binary", "--icmp", "1"}},
		{"frag-blackhole", []string{"--exact", "--strategy", "mtukit,binary", "--pmtu", "1333", "--frag", "1"}},
		// No engine asked: exact where cheap (params.engine "exact", the
		// same numbers as --exact), Monte Carlo with forged PTBs.
		{"auto-exact", []string{"--strategy", "mtukit,binary", "--tunnel", "gre", "--loss", "0.01"}},
		{"auto-forged", []string{"--strategy", "mtukit,binary", "--pmtu", "1450", "--icmp", "1", "--forge", "0.1", "--trials", "2000"}},
		// A prior answer re-validated (issue 15 §1): 2 probes on a steady
		// path, the full search, still exact, on one that changed.
		{"prior-steady", []string{"--strategy", "mtukit,rfc8899,binary", "--prior", "1420", "--pmtu", "1420"}},
		{"prior-changed", []string{"--strategy", "mtukit,rfc8899,binary", "--prior", "1420", "--tunnel", "wireguard", "--icmp", "0.5"}},
		{"monte-carlo", []string{"--monte-carlo", "--strategy", "mtukit,binary", "--tunnel", "gre", "--loss", "0.01", "--trials", "2000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goldenReport(t, "sim", tc.name, tc.args...)
		})
	}
}

// TestSimJSON: every result carries the fields the issue asks for, the CLI
// gives the library's numbers, and a Monte Carlo run is the same for any
// number of workers.
func TestSimJSON(t *testing.T) {
	args := []string{"sim", "--json", "--monte-carlo", "--strategy", "mtukit,quic-go", "--tunnel", "ipsec", "--loss", "0.05", "--trials", "3000"}
	out, errs, code := run(t, append(args, "--workers", "1")...)
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, errs)
	}
	out2, _, _ := run(t, append(args, "--workers", "3")...)
	if out != out2 {
		t.Fatal("Monte Carlo output depends on --workers")
	}
	var raw struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Results) != 2 {
		t.Fatalf("%d results", len(raw.Results))
	}
	for _, f := range []string{"strategy", "step", "tunnel", "probes_mean", "probes_p95", "time_mean_ms", "discovered_mean", "p_suboptimal", "p_overshoot", "goodput"} {
		if _, ok := raw.Results[0][f]; !ok {
			t.Errorf("result has no field %q", f)
		}
	}
	var rep sim.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	d, _ := sim.TunnelDist("ipsec")
	r, err := sim.MonteCarlo(context.Background(), sim.Scenario{Strategy: "mtukit", Config: plpmtud.Config{Min: 1200, Max: 1500}, Path: sim.Path{Loss: 0.05}, PMTU: d}, sim.Options{Trials: 3000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := sim.Summarize(r, sim.SummaryOptions{})
	if got := rep.Results[0]; math.Abs(got.ProbesMean-want.ProbesMean) > 1e-6 || math.Abs(got.PExact-want.PExact) > 1e-9 {
		t.Fatalf("CLI %+v\nlibrary %+v", got, want)
	}
}

func TestSimPlot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sim.svg")
	out, errs, code := run(t, "sim", "--strategy", "mtukit,binary,quic-go", "--trials", "2000", "--loss", "0.02", "--plot", file)
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<svg", "probes to converge", "discovered path MTU", "quic-go"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if !strings.Contains(out, "plot: "+file) {
		t.Errorf("output does not name the plot: %s", out)
	}
	if errs != "" {
		t.Errorf("stderr not empty when it is not a terminal: %q", errs)
	}
}

func TestSimErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"strategy", []string{"--strategy", "binary,nope"}, `--strategy: unknown strategy "nope"`},
		{"step", []string{"--step", "32,x"}, `--step: item 2 "x"`},
		{"step zero", []string{"--step", "0"}, `--step: item 1 "0"`},
		{"pmtu and tunnel", []string{"--pmtu", "1400", "--tunnel", "gre"}, "--pmtu and tunnel exclude each other"},
		{"pmtu", []string{"--pmtu", "14x0"}, `--pmtu: item 1 ("14x0"): path MTU "14x0" is not a whole number`},
		{"pmtu range", []string{"--pmtu", "1400:1300"}, `--pmtu: item 1 ("1400:1300"): range 1400:1300 is reversed: write 1300:1400`},
		{"tunnel", []string{"--tunnel", "carrier-pigeon"}, `--tunnel: unknown tunnel "carrier-pigeon"`},
		{"loss", []string{"--loss", "1.2"}, "loss 1.2 out of range"},
		{"icmp", []string{"--icmp", "-1"}, "icmp -1 out of range"},
		{"min", []string{"--min", "20"}, "min 20 out of range"},
		{"max", []string{"--max", "1000"}, "max 1000 out of range"},
		{"trials", []string{"--trials", "0"}, "--trials 0 out of range"},
		{"change", []string{"--change-after", "3"}, "--change-after and change-to go together"},
		{"rtt", []string{"--rtt", "0s"}, "--rtt 0s must be positive"},
		{"parallel", []string{"--parallel", "9"}, "parallel 9 out of range"},
		{"plot curves", []string{"--step", "seed", "--plot", "x.svg"}, "--plot: 31 curves"},
		{"plot file", []string{"--strategy", "binary", "--trials", "10", "--plot", "/nonexistent/dir/x.svg"}, "--plot:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, append([]string{"sim", "--trials", "100"}, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("code %d, want %d (stderr %q)", code, ExitUsage, errs)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", errs, tc.want)
			}
		})
	}
}
