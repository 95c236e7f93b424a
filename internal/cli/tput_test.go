package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Golden reports: spec in, report out (go test ./internal/cli -run TestTputGolden -update).
func TestTputGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"seed-mathis-c1", []string{"--rtt", "100ms", "--loss", "0.01", "--model", "mathis", "--mathis-c", "1", "--tcp-options", "none", "--mss", "1400:1460:60"}},
		{"window-1mib", []string{"--rtt", "100ms", "--window", "1MiB", "--mss", "1460"}},
		{"wireguard-pftk", []string{"--stack", "wireguard", "--rtt", "40ms", "--loss", "0.001", "--rate", "100M"}},
		{"ipsec-tunnel", []string{"--tunnel", "ipsec", "--rtt", "30ms", "--loss", "0.0005", "--rate", "100M"}},
		{"pmtu-range-pmtud", []string{"--pmtu", "1400:1499", "--too-big", "pmtud", "--rtt", "20ms", "--mss", "1300:1460:40"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goldenReport(t, "tput", tc.name, tc.args...)
		})
	}
}

// The printed figures, checked against the papers' formulas worked here.
func TestTputFigures(t *testing.T) {
	out, _, _ := run(t, "tput", "--json", "--rtt", "100ms", "--loss", "0.01", "--model", "mathis", "--mathis-c", "1", "--tcp-options", "none", "--mss", "1400:1460:60")
	var r struct {
		Rows []struct {
			MSS     int     `json:"mss"`
			Mathis  float64 `json:"mathis_limit"`
			Goodput float64 `json:"goodput"`
			Binding string  `json:"binding"`
		} `json:"rows"`
		Best int `json:"recommended_mss"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// Seed: T = MSS x 8 / 0.1 x 1/sqrt(0.01): 1.168 and 1.12 Mbit/s.
	want := map[int]float64{1400: 1120000, 1460: 1168000}
	for _, row := range r.Rows {
		if math.Abs(row.Mathis-want[row.MSS]) > 0.01 || row.Goodput != row.Mathis || row.Binding != "loss" {
			t.Errorf("MSS %d: %+v, want Mathis %v binding", row.MSS, row, want[row.MSS])
		}
	}
	if r.Best != 1460 {
		t.Errorf("best %d", r.Best)
	}
	// With Mathis's own C = sqrt(3/2): 1.4305 and 1.3717 Mbit/s.
	out, _, _ = run(t, "tput", "--rtt", "100ms", "--loss", "0.01", "--model", "mathis", "--tcp-options", "none", "--mss", "1400:1460:60")
	for _, s := range []string{"1.372 Mbit/s", "1.431 Mbit/s"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %s in\n%s", s, out)
		}
	}
	// The corrected window example: 1 MiB at 100 ms is 83.89 Mbit/s.
	out, _, _ = run(t, "tput", "--rtt", "100ms", "--window", "1MiB", "--mss", "1460")
	if !strings.Contains(out, "83.89 Mbit/s") || !strings.Contains(out, "window\n") {
		t.Errorf("window example:\n%s", out)
	}
	// 65535 << 7 at 100 ms: 671.1 Mbit/s, not "1 MB".
	out, _, _ = run(t, "tput", "--rtt", "100ms", "--window", "65535", "--wscale", "7", "--mss", "1460")
	if !strings.Contains(out, "window 8388480 bytes (65535 << 7)") || !strings.Contains(out, "671.1 Mbit/s") {
		t.Errorf("wscale example:\n%s", out)
	}
}

func TestTputPlot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "g.svg")
	out, errs, code := run(t, "tput", "--tunnel", "wireguard", "--loss", "0.001", "--plot", file)
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<svg", "window limit", "loss limit", "link limit", "achievable goodput", "expected goodput", "recommended MSS 1380", "</svg>"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if !strings.Contains(out, "Plot written to "+file) {
		t.Errorf("no plot line in\n%s", out)
	}
}

func TestTputErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative RTT", []string{"--rtt", "-5ms"}, "--rtt"},
		{"loss 1", []string{"--loss", "1"}, "--loss"},
		{"loss negative", []string{"--loss", "-0.1"}, "--loss"},
		{"loss NaN", []string{"--loss", "NaN"}, "--loss"},
		{"window above 1 GiB", []string{"--window", "2GiB"}, "1 GiB"},
		{"window ambiguous", []string{"--window", "1M"}, "ambiguous"},
		{"wscale 15", []string{"--wscale", "15"}, "--wscale"},
		{"window field above 16 bits", []string{"--window", "70000", "--wscale", "3"}, "16 bits"},
		{"rate in bytes", []string{"--rate", "100MB/s"}, "--rate"},
		{"bad stack", []string{"--stack", "gre(nosuch)"}, "--stack"},
		{"bad mss", []string{"--mss", "1460:1400"}, "--mss"},
		{"mss too big", []string{"--mss", "70000"}, "--mss"},
		{"mss step 0", []string{"--mss", "1400:1460:0"}, "--mss"},
		{"bad pmtu", []string{"--pmtu", "1500:1400"}, "--pmtu"},
		{"pmtu and tunnel", []string{"--pmtu", "1400", "--tunnel", "ipsec"}, "give one"},
		{"bad tunnel", []string{"--tunnel", "carrier-pigeon"}, "--tunnel"},
		{"bad too-big", []string{"--too-big", "maybe"}, "--too-big"},
		{"fragment v6", []string{"--family", "ipv6", "--too-big", "fragment"}, "IPv6"},
		{"bad detect", []string{"--detect", "soon"}, "--detect"},
		{"bad model", []string{"--model", "cubic"}, "--model"},
		{"ipv6 on small link", []string{"--family", "ipv6", "--mtu", "1200"}, "1280"},
		{"unwritable plot", []string{"--plot", "/nonexistent/dir/x.svg"}, "--plot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, append([]string{"tput"}, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("code %d, want %d (stderr %q)", code, ExitUsage, errs)
			}
			if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("stderr %q, want one line naming %q", errs, tc.want)
			}
		})
	}
}
