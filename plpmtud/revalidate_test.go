package plpmtud_test

import (
	"context"
	"testing"
	"time"

	"github.com/mtukit/mtukit/plpmtud"
	"github.com/mtukit/mtukit/plpmtud/sim"
)

// runOn drives s on a lossless path of MTU pmtu (icmp: routers send PTBs)
// and returns the sizes it probed, one round at a time.
func runOn(t *testing.T, s plpmtud.Strategy, pmtu int, icmp bool) [][]int {
	t.Helper()
	var rounds [][]int
	var now time.Duration
	for !s.Done() {
		var round []int
		for {
			size, ok := s.Next(now)
			if !ok {
				break
			}
			round = append(round, size)
		}
		if len(round) == 0 {
			t.Fatalf("stalled after %v", rounds)
		}
		rounds = append(rounds, round)
		for _, size := range round {
			switch {
			case size <= pmtu:
				s.OnAck(size, now)
			case icmp:
				s.OnPTB(size, pmtu, now)
			default:
				s.OnLoss(size, now)
			}
		}
		now += time.Second
		if len(rounds) > 100 {
			t.Fatal("no end")
		}
	}
	return rounds
}

func TestRevalidateRounds(t *testing.T) {
	cases := []struct {
		name         string
		search       string
		known, pmtu  int
		icmp         bool
		first        []int // the check round
		probes       int   // total; -1: not checked
		revalidated  bool
		wantEstimate int
	}{
		{"steady black hole", "mtukit", 1333, 1333, false, []int{1333, 1334}, 2, true, 1333},
		{"steady with ptb", "mtukit", 1400, 1400, true, []int{1400, 1401}, 2, true, 1400},
		{"steady at max", "mtukit", 1500, 1500, false, []int{1500}, 1, true, 1500},
		{"steady at min", "mtukit", 1200, 1200, false, []int{1200, 1201}, 2, true, 1200},
		{"grew by one", "mtukit", 1400, 1401, false, []int{1400, 1401}, -1, false, 1401},
		{"grew to max", "mtukit", 1499, 1500, false, []int{1499, 1500}, 2, true, 1500},
		{"grew", "mtukit", 1333, 1500, false, []int{1333, 1334}, -1, false, 1500},
		{"shrank", "mtukit", 1400, 1291, false, []int{1400, 1401}, -1, false, 1291},
		{"shrank with ptb", "mtukit", 1500, 1420, true, []int{1500}, -1, false, 1420},
		{"known above max is clamped", "mtukit", 9000, 1500, false, []int{1500}, 1, true, 1500},
		{"rfc8899 steady", "rfc8899", 1400, 1400, false, []int{1400, 1401}, 2, true, 1400},
		{"linux-tcp steps by 8", "linux-tcp", 1400, 1400, false, []int{1400, 1408}, 2, true, 1400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := plpmtud.New(tc.search, plpmtud.Config{Min: 1200, Max: 1500, Known: tc.known})
			if err != nil {
				t.Fatal(err)
			}
			rounds := runOn(t, s, tc.pmtu, tc.icmp)
			n := 0
			for _, r := range rounds {
				n += len(r)
			}
			if got := rounds[0]; len(got) != len(tc.first) || got[0] != tc.first[0] || got[len(got)-1] != tc.first[len(tc.first)-1] {
				t.Errorf("first round %v, want %v", got, tc.first)
			}
			if tc.probes >= 0 && n != tc.probes {
				t.Errorf("%d probes (%v), want %d", n, rounds, tc.probes)
			}
			if s.Estimate() != tc.wantEstimate {
				t.Errorf("estimate %d, want %d (%v)", s.Estimate(), tc.wantEstimate, rounds)
			}
			if plpmtud.Revalidated(s) != tc.revalidated {
				t.Errorf("revalidated %v, want %v", plpmtud.Revalidated(s), tc.revalidated)
			}
			if s.State() != plpmtud.SearchComplete {
				t.Errorf("state %v", s.State())
			}
			if n > s.Bound() {
				t.Errorf("%d probes above the bound %d", n, s.Bound())
			}
			// Reset replays the same search.
			s.Reset()
			if again := runOn(t, s, tc.pmtu, tc.icmp); len(again) != len(rounds) || s.Estimate() != tc.wantEstimate {
				t.Errorf("after Reset: %v, estimate %d", again, s.Estimate())
			}
		})
	}
}

func TestRevalidateConfigErrors(t *testing.T) {
	for _, k := range []int{-1, 67, 65536} {
		if _, err := plpmtud.New("mtukit", plpmtud.Config{Min: 1200, Max: 1500, Known: k}); err == nil {
			t.Errorf("known %d accepted", k)
		}
	}
}

// TestRevalidateSim runs the revalidation in the exact simulator: on the
// path it remembers it costs at most 2 probes; on a path that changed, to
// any MTU in [1200, 1500], it still ends on the exact answer (no loss), and
// with 1% loss it keeps the exact answer almost always.
func TestRevalidateSim(t *testing.T) {
	ctx := context.Background()
	for _, search := range []string{"mtukit", "rfc8899", "binary"} {
		for _, icmp := range []float64{0, 1} {
			for _, known := range []int{1200, 1333, 1400, 1492, 1500} {
				cfg := plpmtud.Config{Min: 1200, Max: 1500, Known: known}
				// Steady: exactly known, every outcome at most 2 probes.
				r, err := sim.Exact(ctx, sim.Scenario{Strategy: search, Config: cfg, Path: sim.Path{ICMP: icmp}, PMTU: sim.Fixed(known)}, sim.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range r.Outcomes() {
					if o.Probes > 2 || o.Est != known {
						t.Errorf("%s icmp %g known %d steady: %+v", search, icmp, known, o)
					}
				}
				// Changed: every path MTU from smaller to larger, exact.
				r, err = sim.Exact(ctx, sim.Scenario{Strategy: search, Config: cfg, Path: sim.Path{ICMP: icmp}, PMTU: sim.Uniform(1200, 1500)}, sim.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range r.Outcomes() {
					if o.Est != o.True || o.Capped {
						t.Errorf("%s icmp %g known %d: path %d found %d (%+v)", search, icmp, known, o.True, o.Est, o)
					}
				}
			}
		}
	}
	// Under 1% loss: steady paths average close to 2 probes and stay exact.
	cfg := plpmtud.Config{Min: 1200, Max: 1500, Known: 1333}
	r, err := sim.Exact(ctx, sim.Scenario{Strategy: "mtukit", Config: cfg, Path: sim.Path{Loss: 0.01}, PMTU: sim.Fixed(1333)}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mean, exact := 0.0, 0.0
	for _, o := range r.Outcomes() {
		mean += o.P * float64(o.Probes)
		if o.Est == o.True {
			exact += o.P
		}
	}
	t.Logf("steady 1333 black hole, 1%% loss: %.3f probes on average, exact %.4f", mean, exact)
	if mean > 2.2 || exact < 0.99 {
		t.Errorf("steady path under 1%% loss: %.3f probes, exact %.4f", mean, exact)
	}
}

func TestRevalidateNoAllocs(t *testing.T) {
	s, err := plpmtud.New("mtukit", plpmtud.Config{Min: 1200, Max: 1500, Known: 1400})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		s.Reset()
		for !s.Done() {
			a, _ := s.Next(0)
			b, _ := s.Next(0)
			s.OnAck(a, 0)
			s.OnLoss(b, 0)
		}
	})
	if allocs != 0 || s.Estimate() != 1400 {
		t.Errorf("%v allocs per revalidation (estimate %d)", allocs, s.Estimate())
	}
}
