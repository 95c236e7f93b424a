package probe

import (
	"context"
	"testing"
	"time"
)

// TestPriorRevalidation drives the real driver over the fake path with a
// remembered answer: an unchanged path costs at most 2 probes and keeps
// its verdict; a change gets the full search and the usual verdict.
func TestPriorRevalidation(t *testing.T) {
	cases := []struct {
		name        string
		prior       Prior
		mtu         int
		ptb         bool
		probes      int // -1: not checked (a full search)
		blackhole   bool
		revalidated bool
	}{
		{"steady black hole", Prior{1333, true}, 1333, false, 2, true, true},
		{"steady with ptb", Prior{1400, false}, 1400, true, 2, false, true},
		{"steady at max", Prior{1500, false}, 1500, false, 1, false, true},
		{"black hole appeared", Prior{1400, false}, 1400, false, 4, true, true},
		{"black hole healed", Prior{1400, true}, 1400, true, 2, false, true},
		{"shrank behind the black hole", Prior{1333, true}, 1291, false, -1, true, false},
		{"grew", Prior{1333, true}, 1500, false, -1, false, false},
		{"prior out of range is ignored", Prior{9000, false}, 1400, true, -1, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(tc.mtu, tc.ptb)
			o := Options{Addr: f.dst, Min: 1200, Max: 1500, Timeout: 20 * time.Millisecond, Retries: 3, Rate: 100000, Prior: tc.prior}
			if err := o.defaults(); err != nil {
				t.Fatal(err)
			}
			rep, err := search(context.Background(), f, o, &Report{}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if rep.PMTU != tc.mtu {
				t.Errorf("pmtu %d, want %d (probes %v)", rep.PMTU, tc.mtu, f.sizes)
			}
			if tc.probes >= 0 && rep.ProbesSent != tc.probes {
				t.Errorf("%d probes %v, want %d", rep.ProbesSent, f.sizes, tc.probes)
			}
			if rep.ProbesSent != len(f.sizes) {
				t.Errorf("report says %d probes, the path saw %d", rep.ProbesSent, len(f.sizes))
			}
			if rep.Blackhole != tc.blackhole || rep.Revalidated != tc.revalidated {
				t.Errorf("blackhole %v revalidated %v, want %v %v (probes %v)", rep.Blackhole, rep.Revalidated, tc.blackhole, tc.revalidated, f.sizes)
			}
		})
	}
}
