//go:build linux

package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mtukit/mtukit/internal/netlab"
	"github.com/mtukit/mtukit/probe"
)

// labBench is the namespace fleet of BenchmarkLabRevalidate.
type labBench struct {
	h       http.Handler
	reqs    []*http.Request
	srv     *Server
	packets atomic.Int64
}

const benchTargets = 200

// BenchmarkLabRevalidate re-validates steady paths with the real prober:
// client -> router -> server, the server link at 1400 behind a black hole
// (the costly case: each re-validation waits a probe timer for the lost
// 1401-byte probe), 200 server addresses each with its own responder, 200
// probes at once, the exporter's total packet rate bounded at 1000/s (the
// default) or not bounded. It
// reports targets re-validated per minute, probes per target, and the
// exporter's CPU time per target (user+system of this process, which also
// runs the responders: an upper bound), from which the CPU-bound rate on 2
// cores follows.
//
//	MTUKIT_LAB=1 go test -run XXX -bench LabRevalidate -benchtime 4000x ./exporter/
func BenchmarkLabRevalidate(b *testing.B) {
	netlab.Require(b, "nft")
	for _, rate := range []float64{1000, -1} {
		name := fmt.Sprintf("rate=%g", rate)
		if rate < 0 {
			name = "rate=unbounded"
		}
		b.Run(name, func(b *testing.B) { benchLabRevalidate(b, rate) })
	}
}

func benchLabRevalidate(b *testing.B, rate float64) {
	lb := setupLabBench(b, rate)
	var wg sync.WaitGroup
	for _, r := range lb.reqs { // the first search of each path, remembered
		wg.Add(1)
		go func() {
			defer wg.Done()
			lb.h.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	wg.Wait()
	lb.packets.Store(0)
	var next, bad, searched atomic.Int64
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	b.SetParallelism(benchTargets / 2) // x GOMAXPROCS goroutines: every target in flight
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % benchTargets
			w := httptest.NewRecorder()
			lb.h.ServeHTTP(w, lb.reqs[i])
			switch {
			case w.Code != 200 || !bytesContains(w.Body.Bytes(), "mtukit_path_mtu_bytes 1400\n") || !bytesContains(w.Body.Bytes(), "mtukit_blackhole 1\n"):
				if bad.Add(1) <= 3 {
					b.Logf("scrape of %s: %d\n%s", lb.reqs[i].URL, w.Code, w.Body)
				}
			case !bytesContains(w.Body.Bytes(), "mtukit_revalidated 1\n"):
				searched.Add(1) // a probe lost (or late) at random: the full search ran, and found the same
			}
		}
	})
	b.StopTimer()
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	if n := bad.Load(); n > int64(b.N)/100 {
		b.Errorf("%d of %d scrapes failed or not the 1400-byte black hole", n, b.N)
	}
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()+ru1.Stime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(b.N)*60e9/float64(b.Elapsed().Nanoseconds()), "targets/min")
	b.ReportMetric(float64(lb.packets.Load())/float64(b.N), "probes/target")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/target")
	b.ReportMetric(100*float64(searched.Load())/float64(b.N), "%searched")
}

func bytesContains(b []byte, s string) bool {
	return len(b) >= len(s) && stringsIndex(string(b), s) >= 0
}

func stringsIndex(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func setupLabBench(b *testing.B, rate float64) *labBench {
	lb := &labBench{}
	lab := netlab.New(b)
	c, r, s := lab.Host("client"), lab.Host("router"), lab.Host("server")
	lab.Link(c, r, netlab.LinkOpts{MTU: 1500, NameA: "eth0", NameB: "eth0", AddrA: "10.0.1.1/24", AddrB: "10.0.1.2/24"})
	lab.Link(r, s, netlab.LinkOpts{MTU: 1400, NameA: "eth1", NameB: "eth0", AddrA: "10.0.2.1/24", AddrB: "10.0.2.2/24"})
	r.Forwarding(true)
	c.Route("default", "10.0.1.2")
	s.Route("default", "10.0.2.1")
	r.DropPTB()
	var batch string
	for i := range benchTargets {
		batch += fmt.Sprintf("address add 10.0.2.%d/24 dev eth0 nodad\n", 10+i)
	}
	if out, err := s.RunInput(batch, "ip", "-batch", "-"); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() })
	for i := range benchTargets {
		a := netip.AddrFrom4([4]byte{10, 0, 2, byte(10 + i)})
		resp := &probe.Responder{Listen: netip.AddrPortFrom(a, labPort), Rate: 100000, Burst: 100000}
		if err := s.Do(func() error { return resp.Open(ctx) }); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); resp.Run(ctx) }()
	}
	cfg, err := Parse([]byte(fmt.Sprintf("modules:\n  udp:\n    method: udp\n    port: %d\n    probe_timeout: 200ms\n    rate: 1000\n", labPort)))
	if err != nil {
		b.Fatal(err)
	}
	inClient := func(ctx context.Context, o probe.Options) (rep *probe.Report, err error) {
		if derr := c.Do(func() error { rep, err = probe.Run(ctx, o); return nil }); derr != nil {
			return nil, derr
		}
		if rep != nil {
			lb.packets.Add(int64(rep.ProbesSent))
		}
		return rep, err
	}
	lb.srv, err = New(cfg, Options{Probe: inClient, Concurrency: benchTargets, Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	lb.h = lb.srv.Handler()
	for i := range benchTargets {
		lb.reqs = append(lb.reqs, httptest.NewRequest("GET", fmt.Sprintf("/probe?module=udp&target=10.0.2.%d", 10+i), nil))
	}
	return lb
}
