//go:build linux

package probe

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/plpmtud"
)

// TestBenchProbe is the side-by-side benchmark that scripts/bench-probe.sh
// runs (MTUKIT_BENCH=1): per scenario, mtukit with each strategy, tracepath
// and a `ping -M do` bisection, on the same lab topology, each tool on
// fresh namespaces where the kernel's PMTU cache would help it. Probes of
// tracepath (its UDP datagrams) and ping (echo requests) are counted on the
// wire (tcpdump on the client link; ARP and neighbour solicitations are not
// probes);
// mtukit's count is its report's, which TestLabScenarios checks against
// the wire.
func TestBenchProbe(t *testing.T) {
	if os.Getenv("MTUKIT_BENCH") != "1" {
		t.Skip("benchmark: run scripts/bench-probe.sh (MTUKIT_BENCH=1)")
	}
	netlab.Require(t, "nft", "tcpdump", "ping", "tracepath")
	scenarios := []scenario{
		{name: "1400 ICMP delivered", mtu: 1400},
		{name: "1400 black hole", mtu: 1400, dropPTB: true},
		{name: "1417 odd", mtu: 1417},
		{name: "1333 odd, black hole", mtu: 1333, dropPTB: true},
		{name: "IPv6 1280", v6: true, mtu: 1280},
		{name: "IPv6 1400", v6: true, mtu: 1400},
		{name: "IPv6 1481 black hole", v6: true, mtu: 1481, dropPTB: true},
		{name: "VXLAN hop", mtu: 1500, vxlan: true},
		{name: "1400 + 1% loss", mtu: 1400, loss: 1},
		{name: "1400 + 3% loss", mtu: 1400, loss: 3},
		{name: "1400 + 5% loss", mtu: 1400, loss: 5},
		{name: "1400 + 5% loss, black hole", mtu: 1400, loss: 5, dropPTB: true},
		{name: "forged PTB (1300)", mtu: 1400, forged: true},
	}
	if f := os.Getenv("MTUKIT_BENCH_ONLY"); f != "" {
		var keep []scenario
		for _, sc := range scenarios {
			if strings.Contains(sc.name, f) {
				keep = append(keep, sc)
			}
		}
		scenarios = keep
	}
	type row struct {
		scenario, tool     string
		truth, got, probes int
		ms                 int64
		note               string
	}
	var rows []row
	add := func(sc scenario, truth int, tool string, got, probes int, d time.Duration, note string) {
		rows = append(rows, row{sc.name, tool, truth, got, probes, d.Milliseconds(), note})
		t.Logf("%-28s %-22s true %d got %d probes %d %d ms %s", sc.name, tool, truth, got, probes, d.Milliseconds(), note)
	}
	for _, sc := range scenarios {
		sc.method = MethodICMP
		t.Run(sc.name, func(t *testing.T) {
			// mtukit, each strategy, one after the other on one lab: they
			// probe with IP_PMTUDISC_PROBE, so the kernel's cache does not help.
			p := buildPath(t, sc)
			var forge func()
			if sc.forged {
				forge = forgePTBs(t, p, sc)
			}
			for _, name := range plpmtud.Names() {
				o := Options{Addr: p.dst, Method: MethodICMP, Search: name, Timeout: 200 * time.Millisecond, Rate: 1000, MaxDuration: 60 * time.Second}
				if forge != nil {
					o.Progress = onceAfterFirst(forge)
				}
				var rep *Report
				var err error
				p.c.Do(func() error { rep, err = Run(context.Background(), o); return nil })
				note := ""
				if err != nil {
					note = err.Error()
				}
				if rep == nil {
					add(sc, p.truth, "mtukit "+name, 0, 0, 0, note)
					continue
				}
				if rep.Blackhole {
					note = strings.TrimSpace(note + " blackhole")
				}
				add(sc, p.truth, "mtukit "+name, rep.PMTU, rep.ProbesSent, time.Duration(rep.DurationMS)*time.Millisecond, note)
			}

			// tracepath on fresh namespaces.
			p = buildPath(t, sc)
			forge = nil
			if sc.forged {
				forge = forgePTBs(t, p, sc)
			}
			capt := p.c.Capture(p.clientIf, "udp and (src host 10.0.1.1 or src host fd01::1)", "")
			start := time.Now()
			if forge != nil {
				go func() { time.Sleep(50 * time.Millisecond); forge() }()
			}
			// -m 4: the path has 2 hops; without a bound tracepath walks 30
			// hops of silence behind a black hole.
			out, _ := p.c.Run("tracepath", "-n", "-m", "4", p.dst.String())
			d := time.Since(start)
			n, _ := capt.Stop()
			got, note := 0, "no pmtu line"
			if m := regexp.MustCompile(`pmtu (\d+)`).FindAllStringSubmatch(out, -1); m != nil {
				got, _ = strconv.Atoi(m[len(m)-1][1])
				note = ""
			}
			if !strings.Contains(out, "Resume") {
				note = strings.TrimSpace(note + " did not reach the host")
			}
			add(sc, p.truth, "tracepath", got, n, d, note)

			// ping -M do bisection over [1200, 1500] on fresh namespaces.
			p = buildPath(t, sc)
			if sc.forged {
				forge = forgePTBs(t, p, sc)
			}
			capt = p.c.Capture(p.clientIf, "(icmp[icmptype] == icmp-echo or (icmp6 and ip6[40] == 128)) and (src host 10.0.1.1 or src host fd01::1)", "")
			start = time.Now()
			hdr := 28
			lo, hi := 1200, 1500
			if sc.v6 {
				hdr, lo = 48, 1280
			}
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if forge != nil && lo == 1200 {
					forge() // before each probe until one passes
				}
				if _, err := p.c.Run("ping", "-n", "-M", "do", "-c", "1", "-W", "0.2", "-s", strconv.Itoa(mid-hdr), p.dst.String()); err == nil {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			d = time.Since(start)
			n, _ = capt.Stop()
			add(sc, p.truth, "ping -M do bisection", lo, n, d, "")
		})
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttool\ttrue PMTU\tdiscovered\terror\tprobes\twall ms\tnote")
	for _, r := range rows {
		verdict := "exact"
		switch {
		case r.got > r.truth:
			verdict = fmt.Sprintf("OVERSHOOT +%d", r.got-r.truth)
		case r.got < r.truth:
			verdict = fmt.Sprintf("-%d", r.truth-r.got)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%d\t%s\n", r.scenario, r.tool, r.truth, r.got, verdict, r.probes, r.ms, r.note)
	}
	tw.Flush()
	if out := os.Getenv("MTUKIT_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(b.String()), 0o644)
	}
	t.Log("\n" + b.String())
}
