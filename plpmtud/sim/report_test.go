package sim

import (
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
