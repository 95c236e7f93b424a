package exporter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// BenchmarkRevalidate is the exporter's own cost per scrape of a steady
// target: the whole /probe handler (module lookup, target parsing and the
// allow-list, the bounds, the remembered answer, the real plpmtud
// revalidation over a simulated path, the registry and its text), with
// 10,000 targets cycled over GOMAXPROCS goroutines. targets/min is what
// this CPU could re-validate if the network answered at once; the packets
// themselves are the prober's (docs/monitor.md has the loopback figure).
func BenchmarkRevalidate(b *testing.B) {
	const targets = 10000
	net := &simPaths{}
	for i := range targets {
		net.set(addrN(i).String(), 1200+i%301, i%2 == 0) // half behind black holes
	}
	cfg, err := Parse([]byte("allowed_targets: [10.0.0.0/8]\nmodules:\n  udp:\n    method: udp\n"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(cfg, Options{Probe: net.probe, Rate: -1, Resolver: testResolver, Concurrency: 1024})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	reqs := make([]*http.Request, targets)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", fmt.Sprintf("/probe?module=udp&target=%s", addrN(i)), nil)
		h.ServeHTTP(httptest.NewRecorder(), reqs[i]) // the first search, remembered
	}
	net.calls = nil
	var next, probes atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % targets
			w := httptest.NewRecorder()
			h.ServeHTTP(w, reqs[i])
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	for _, c := range net.calls {
		if c.Prior.PMTU == 0 {
			b.Fatalf("a scrape without a remembered answer: %+v", c)
		}
	}
	probes.Store(int64(len(net.calls)))
	b.ReportMetric(float64(b.N)*60e9/float64(b.Elapsed().Nanoseconds()), "targets/min")
}
