package sim

import (
	"reflect"
	"testing"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
)

// FuzzRequestParsers: the step, pmtu and strategy parsers never panic,
// reject with a ParamError, or return values in range.
func FuzzRequestParsers(f *testing.F) {
	for _, s := range []string{"32", "16,32,64", "seed", "", "0", "1400:1500", "1500:1400", "65536", " 7 , 9", "binary,quic-go", "all", ":", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if steps, err := simSteps(s); err == nil {
			for _, v := range steps {
				if v < 1 || v > plpmtud.MaxSize {
					t.Fatalf("step %d from %q", v, s)
				}
			}
		} else if _, ok := err.(*encap.ParamError); !ok {
			t.Fatalf("%q: %T %v", s, err, err)
		}
		if ds, err := simDists(Request{PMTU: s, Tunnel: "mix"}); err == nil && s != "" {
			for _, p := range ds[0].dist {
				if p.PMTU < plpmtud.MinSize || p.PMTU > plpmtud.MaxSize {
					t.Fatalf("pmtu %d from %q", p.PMTU, s)
				}
			}
		} else if err != nil {
			if _, ok := err.(*encap.ParamError); !ok {
				t.Fatalf("%q: %T %v", s, err, err)
			}
		}
		if names, err := simStrategies(s); err == nil {
			for _, n := range names {
				if _, ok := plpmtud.Lookup(n); !ok {
					t.Fatalf("strategy %q from %q", n, s)
				}
			}
		}
	})
}

// TestCompareEngine: with no engine asked, Compare gives --exact's numbers
// where exact is cheap and samples rows with forged PTBs; the report says
// which engine ran; exact and monte-carlo together are refused.
func TestCompareEngine(t *testing.T) {
	req := func(f func(*Request)) Request {
		r := DefaultRequest()
		r.Strategy, r.Tunnel, r.Loss, r.Trials = "mtukit,binary", "gre", 0.01, 500
		f(&r)
		return r
	}
	auto, err := Compare(ctx, req(func(*Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	exact, err := Compare(ctx, req(func(r *Request) { r.Exact = true }))
	if err != nil {
		t.Fatal(err)
	}
	if auto.Params.Engine != EngineExact || !auto.Params.Exact || !auto.Params.Auto || auto.Params.Trials != 0 {
		t.Errorf("auto params %+v", auto.Params)
	}
	for i := range exact.Results {
		a, e := auto.Results[i], exact.Results[i]
		a.samples, e.samples = nil, nil
		if !a.Exact || !reflect.DeepEqual(a, e) {
			t.Errorf("row %d: auto %+v, exact %+v", i, a, e)
		}
	}
	mc, err := Compare(ctx, req(func(r *Request) { r.MonteCarlo = true }))
	if err != nil || mc.Params.Engine != EngineMonteCarlo || mc.Params.Exact || mc.Params.Trials != 500 || mc.Results[0].Exact {
		t.Errorf("monte-carlo: %v %+v", err, mc.Params)
	}
	forged, err := Compare(ctx, req(func(r *Request) { r.ICMP, r.Forge = 1, 0.1 }))
	if err != nil || forged.Params.Engine != EngineMonteCarlo || forged.Results[0].Exact {
		t.Errorf("forged PTBs: %v %+v", err, forged.Params)
	}
	_, err = Compare(ctx, req(func(r *Request) { r.Exact, r.MonteCarlo = true, true }))
	if pe, ok := err.(*encap.ParamError); !ok || pe.Param != "monte-carlo" {
		t.Errorf("exact and monte-carlo: %v", err)
	}
}

// TestComparePrior: with a prior answer (`mtukit sim --prior`), a steady
// path costs at most 2 probes and every strategy that is exact without a
// prior stays exact on a path that changed, black hole or PTBs.
func TestComparePrior(t *testing.T) {
	for _, icmp := range []float64{0, 1} {
		r := DefaultRequest()
		r.Strategy, r.Prior, r.ICMP = "mtukit,rfc8899,binary", 1420, icmp
		r.Tunnel, r.PMTU = "mix", "1420"
		steady, err := Compare(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		r.PMTU = "1200:1500"
		changed, err := Compare(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range steady.Results {
			c := changed.Results[i]
			if !s.Exact || s.ProbesP95 > 2 || s.ProbesMean > 2 || s.PExact != 1 {
				t.Errorf("icmp %g %s steady: %.2f probes (p95 %d), exact %g", icmp, s.Strategy, s.ProbesMean, s.ProbesP95, s.PExact)
			}
			if c.PExact != 1 || c.POvershoot != 0 {
				t.Errorf("icmp %g %s changed: exact %g, overshoot %g", icmp, c.Strategy, c.PExact, c.POvershoot)
			}
			t.Logf("icmp %g %s: steady %.2f probes, changed (uniform 1200-1500) %.2f probes, exact %g", icmp, s.Strategy, s.ProbesMean, c.ProbesMean, c.PExact)
		}
	}
	r := DefaultRequest()
	r.Prior = 1100
	if _, err := Compare(ctx, r); err == nil || err.(*encap.ParamError).Param != "prior" {
		t.Errorf("prior below min: %v", err)
	}
}
