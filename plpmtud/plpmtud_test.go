package plpmtud

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// path is a test driver: a path of MTU pmtu that loses the probes for which
// lose returns true (i counts probes from 0) and answers too-big probes
// with a PTB when icmp is set.
type path struct {
	pmtu int
	icmp bool
	lose func(i, size int) bool
}

// run drives s to the end and returns the probes it sent.
func (p path) run(t testing.TB, s Strategy) []int {
	t.Helper()
	var sent []int
	var now time.Duration
	for rounds := 0; !s.Done(); rounds++ {
		if rounds > 1000 {
			t.Fatalf("no end after 1000 rounds; probes %v", sent)
		}
		var round []int
		for {
			size, ok := s.Next(now)
			if !ok {
				break
			}
			round = append(round, size)
		}
		if len(round) == 0 {
			if s.Done() {
				break // finished inside Next (its budget)
			}
			t.Fatalf("stalled: not done and nothing to send; probes %v", sent)
		}
		slices.Sort(round)
		var lost []int
		for _, size := range round {
			i := len(sent)
			sent = append(sent, size)
			switch {
			case size > p.pmtu && p.icmp:
				s.OnPTB(size, p.pmtu, now)
			case size > p.pmtu || (p.lose != nil && p.lose(i, size)):
				lost = append(lost, size)
			default:
				s.OnAck(size, now)
			}
		}
		for _, size := range lost {
			s.OnLoss(size, now)
		}
		now += 100 * time.Millisecond
	}
	return sent
}

func mustNew(t testing.TB, name string, c Config) Strategy {
	t.Helper()
	s, err := New(name, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegistry(t *testing.T) {
	names := Names()
	want := []string{"mtukit", "binary", "hybrid", "linear", "rfc8899", "freebsd-sctp", "linux-sctp", "linux-tcp", "msquic", "quic-go", "quiche"}
	if !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	if names[0] != Default {
		t.Errorf("default %q is not listed first", Default)
	}
	for _, n := range names {
		i, _ := Lookup(n)
		if i.Summary == "" || i.NativeStep <= 0 {
			t.Errorf("%s: incomplete Info %+v", n, i)
		}
	}
	for _, tc := range []struct {
		name, strategy string
		c              Config
		want           string
	}{
		{"unknown", "nope", Config{Min: 1200, Max: 1500}, `unknown strategy "nope"`},
		{"min too small", "binary", Config{Min: 67, Max: 1500}, "min 67 out of range"},
		{"max below min", "binary", Config{Min: 1500, Max: 1200}, "max 1200 out of range"},
		{"max too large", "binary", Config{Min: 1200, Max: 65536}, "max 65536 out of range"},
		{"negative step", "linear", Config{Min: 1200, Max: 1500, Step: -1}, "step -1"},
		{"too many tries", "rfc8899", Config{Min: 1200, Max: 1500, MaxProbes: 17}, "max probes 17"},
		{"parallel", "mtukit", Config{Min: 1200, Max: 1500, Parallel: 9}, "parallel 9"},
		{"loss prior", "mtukit", Config{Min: 1200, Max: 1500, LossPrior: 1}, "loss prior 1"},
		{"epsilon NaN", "mtukit", Config{Min: 1200, Max: 1500, Epsilon: math.NaN()}, "epsilon NaN"},
		{"plateau", "mtukit", Config{Min: 1200, Max: 1500, Plateaus: []Plateau{{MTU: 10, Weight: 1}}}, "plateau 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.strategy, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%q, %+v) = %v, want error containing %q", tc.strategy, tc.c, err, tc.want)
			}
		})
	}
}

// TestSeedLinear reproduces the seed's ΔS examples for a true MTU of 1420
// searched from S0 = 1200. With ΔS 64 the seed is right: 1200, 1264,
// 1328, 1392, 1456 (lost), 1392 found, 28 bytes short. With ΔS 128 it says
// 1420 - (1420 mod 128) = 1408, but that grid starts at 0, not at S0: the
// probes are 1200, 1328, 1456 (lost) and the answer is 1328, 92 short.
func TestSeedLinear(t *testing.T) {
	for _, tc := range []struct {
		step   int
		probes []int
		est    int
	}{
		{64, []int{1200, 1264, 1328, 1392, 1456}, 1392},
		{128, []int{1200, 1328, 1456}, 1328},
	} {
		t.Run(fmt.Sprint("step ", tc.step), func(t *testing.T) {
			s := mustNew(t, "linear", Config{Min: 1200, Max: 1500, Step: tc.step})
			got := path{pmtu: 1420}.run(t, s)
			if !slices.Equal(got, tc.probes) || s.Estimate() != tc.est {
				t.Fatalf("probes %v estimate %d, want %v and %d", got, s.Estimate(), tc.probes, tc.est)
			}
			// The seed's closed form for the 128 case is the grid from 0.
			if seed := 1420 - 1420%tc.step; tc.step == 128 && seed == tc.est {
				t.Fatalf("seed's %d should differ from the real %d", seed, tc.est)
			}
		})
	}
}

// TestSeedBinaryFourRounds: over [1200, 1500] with ΔS_min 32 binary search
// takes ceil(log2(300/32)) = 4 probes whatever the PMTU, and ends within
// 31 bytes below it. (The seed's "versus 24 rounds for linear, a 6x
// speedup" is not: linear with ΔS 32 over the same range sends at most
// 11 probes, 1500/64 = 24 is a different step over a different range.)
func TestSeedBinaryFourRounds(t *testing.T) {
	want := int(math.Ceil(math.Log2(300.0 / 32)))
	if want != 4 {
		t.Fatalf("ceil(log2(300/32)) = %d", want)
	}
	worstLinear := 0
	for pmtu := 1200; pmtu <= 1500; pmtu++ {
		s := mustNew(t, "binary", Config{Min: 1200, Max: 1500, Step: 32})
		got := path{pmtu: pmtu}.run(t, s)
		if len(got) != want || s.Estimate() > pmtu || pmtu-s.Estimate() >= 32 {
			t.Fatalf("PMTU %d: probes %v estimate %d", pmtu, got, s.Estimate())
		}
		l := mustNew(t, "linear", Config{Min: 1200, Max: 1500, Step: 32})
		worstLinear = max(worstLinear, len(path{pmtu: pmtu}.run(t, l)))
	}
	if worstLinear != 11 {
		t.Fatalf("linear ΔS 32 worst case %d probes, want 11", worstLinear)
	}
}

// TestSeedLostMidpoint: binary over [1200, 1500] probes 1350 first. If that
// probe is lost at random on a 1500 path, the upper bound becomes 1349 (not
// 1275, which is only the next probe) and the search ends at 1349: 151
// bytes short, not the seed's "up to 225".
func TestSeedLostMidpoint(t *testing.T) {
	s := mustNew(t, "binary", Config{Min: 1200, Max: 1500})
	got := path{pmtu: 1500, lose: func(i, _ int) bool { return i == 0 }}.run(t, s)
	if got[0] != 1350 || got[1] != (1200+1350)/2 || s.Estimate() != 1349 {
		t.Fatalf("probes %v estimate %d, want 1350, 1275, ... ending at 1349", got, s.Estimate())
	}
	if 1500-s.Estimate() != 151 {
		t.Fatalf("error %d", 1500-s.Estimate())
	}
}

// TestBinaryLog2: with no loss and ΔS 1, binary finds the exact PMTU in at
// most ceil(log2 N) probes for N candidate sizes, and some PMTU needs all
// of them; the counts are the table of pmtud.md: [1280,1500] 8,
// [1200,1500] 9, [68,1500] 11, [1200,9000] 13, [576,65535] 16.
func TestBinaryLog2(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ min, max, want int }{
		{1280, 1500, 8}, {1200, 1500, 9}, {68, 1500, 11}, {1200, 9000, 13}, {576, 65535, 16},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.min, tc.max), func(t *testing.T) {
			if b := int(math.Ceil(math.Log2(float64(tc.max - tc.min + 1)))); b != tc.want {
				t.Fatalf("ceil(log2 %d) = %d, want %d", tc.max-tc.min+1, b, tc.want)
			}
			s := mustNew(t, "binary", Config{Min: tc.min, Max: tc.max})
			worst := 0
			check := func(pmtu int) {
				s.Reset()
				got := path{pmtu: pmtu}.run(t, s)
				if s.Estimate() != pmtu || len(got) > tc.want {
					t.Fatalf("PMTU %d: estimate %d after %d probes", pmtu, s.Estimate(), len(got))
				}
				worst = max(worst, len(got))
			}
			if tc.max-tc.min < 10000 {
				for pmtu := tc.min; pmtu <= tc.max; pmtu++ {
					check(pmtu)
				}
			} else {
				for range 3000 {
					check(tc.min + rng.IntN(tc.max-tc.min+1))
				}
				check(tc.max)
			}
			if worst != tc.want {
				t.Fatalf("worst case %d probes, want %d", worst, tc.want)
			}
		})
	}
}

// TestNeverAboveTruePMTU: without loss no strategy ends above the path MTU,
// every one finishes within its bound without hitting it, and the exact
// ones (ΔS 1) find it exactly; with random loss and PTBs none overshoots
// either, since an estimate is always an acknowledged size.
func TestNeverAboveTruePMTU(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	exact := map[string]bool{"mtukit": true, "binary": true, "rfc8899": true, "quiche": true}
	precision := map[string]int{"linux-tcp": 8, "quic-go": 22, "linux-sctp": 4, "freebsd-sctp": 8}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			for trial := 0; trial < 400; trial++ {
				lo := 576 + rng.IntN(1000)
				hi := lo + rng.IntN(9000-lo)
				pmtu := lo + rng.IntN(hi-lo+1)
				s := mustNew(t, name, Config{Min: lo, Max: hi})
				loss := 0.0
				if trial%2 == 1 {
					loss = 0.1
				}
				p := path{pmtu: pmtu, icmp: trial%4 == 3, lose: func(int, int) bool { return rng.Float64() < loss }}
				got := p.run(t, s)
				e := s.Estimate()
				if e > pmtu || e < lo {
					t.Fatalf("[%d,%d] PMTU %d loss %g: estimate %d (probes %v)", lo, hi, pmtu, loss, e, got)
				}
				if len(got) > s.Bound() {
					t.Fatalf("sent %d probes, bound %d", len(got), s.Bound())
				}
				if loss > 0 {
					continue
				}
				if s.Capped() {
					t.Fatalf("[%d,%d] PMTU %d: stopped by the budget after %d probes", lo, hi, pmtu, len(got))
				}
				if exact[name] && e != pmtu {
					t.Fatalf("[%d,%d] PMTU %d: estimate %d", lo, hi, pmtu, e)
				}
				if d, ok := precision[name]; ok && pmtu-e >= d {
					t.Fatalf("[%d,%d] PMTU %d: estimate %d, more than %d short", lo, hi, pmtu, e, d-1)
				}
			}
		})
	}
}

// Probe sequences derived by hand from each stack's source (see the
// strategy's documentation) for a 1420-byte path searched over [1200, 1500].
func TestModelSequences(t *testing.T) {
	lost3 := func(x int) []int { return []int{x, x, x} }
	cat := func(parts ...[]int) []int { return slices.Concat(parts...) }
	for _, tc := range []struct {
		name     string
		min, max int
		pmtu     int
		probes   []int
		est      int
	}{
		// (h+l)>>1; success: low = probe; failure: high = probe-1; stop under 8.
		{"linux-tcp", 1200, 1500, 1420, []int{1350, 1425, 1387, 1405, 1414, 1419}, 1419},
		// +80 from the start, 3 tries at the failing size.
		{"msquic", 1280, 1500, 1420, cat([]int{1360}, lost3(1440)), 1360},
		// 1520 computed is forced to 1500.
		{"msquic", 1280, 1500, 1500, []int{1360, 1440, 1500}, 1500},
		// BASE, +32 until 3 losses, the PMTU again, +4 while below probe_high.
		{"linux-sctp", 1200, 1500, 1420, cat([]int{1200, 1232, 1264, 1296, 1328, 1360, 1392}, lost3(1424),
			[]int{1392, 1396, 1400, 1404, 1408, 1412, 1416, 1420}), 1420},
		// BASE, Max, then ceil((max-min)/8)*4+min below the smallest expired size.
		{"freebsd-sctp", 1200, 1500, 1420, []int{1200, 1500, 1352, 1428, 1392, 1412, 1420, 1424, 1424, 1424}, 1420},
		// quiche's own test_example_pmtud path (PMTU 1272, max 1350), 3 tries per failure.
		{"quiche", 1200, 1350, 1272, cat(lost3(1350), lost3(1275), []int{1237, 1256, 1265, 1270, 1272}, lost3(1273)), 1272},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustNew(t, tc.name, Config{Min: tc.min, Max: tc.max})
			got := path{pmtu: tc.pmtu}.run(t, s)
			if !slices.Equal(got, tc.probes) || s.Estimate() != tc.est {
				t.Fatalf("probes %v estimate %d\nwant   %v estimate %d", got, s.Estimate(), tc.probes, tc.est)
			}
		})
	}
}

// TestQuicGoAckAndLoss replays quic-go's TestMTUDiscovererAckAndLoss: over
// [1000, 2000] the first probe is 1500; after it is lost the next is 1250;
// after that is acknowledged the next is above 1500 again (the loss may
// have been random); acknowledged probes then climb to within 20 of 2000.
func TestQuicGoAckAndLoss(t *testing.T) {
	s := mustNew(t, "quic-go", Config{Min: 1000, Max: 2000})
	step := func(want int, ack bool) int {
		size, ok := s.Next(0)
		if !ok || (want != 0 && size != want) {
			t.Fatalf("Next = %d, %v; want %d", size, ok, want)
		}
		if ack {
			s.OnAck(size, 0)
		} else {
			s.OnLoss(size, 0)
		}
		return size
	}
	step(1500, false)
	step(1250, true)
	if got := step(0, true); got <= 1500 {
		t.Fatalf("probe after the lost 1500 and an ack: %d, want above 1500", got)
	}
	for n := 0; !s.Done(); n++ {
		if n == 10 {
			t.Fatal("more than 10 further probes")
		}
		step(0, true)
	}
	if s.Estimate() <= 2000-quicGoMaxMTUDiff {
		t.Fatalf("estimate %d, want above %d", s.Estimate(), 2000-quicGoMaxMTUDiff)
	}
}

// TestQuicGoToleratesTwoLosses is quic-go's random-loss property: with at
// most two random losses of probes that fit, it still ends within 20 bytes.
func TestQuicGoToleratesTwoLosses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		max := 1001 + rng.IntN(2000)
		pmtu := 1000 + rng.IntN(max-1000)
		s := mustNew(t, "quic-go", Config{Min: 1000, Max: max})
		losses := 0
		path{pmtu: pmtu, lose: func(_, size int) bool {
			if size <= pmtu && losses < 2 && rng.IntN(3) == 0 {
				losses++
				return true
			}
			return false
		}}.run(t, s)
		if d := pmtu - s.Estimate(); d < 0 || d > quicGoMaxMTUDiff {
			t.Fatalf("PMTU %d max %d: estimate %d", pmtu, max, s.Estimate())
		}
	}
}

func TestRFC8899States(t *testing.T) {
	c := Config{Min: 1200, Max: 1500}
	t.Run("base confirmed then search completes", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		if s.State() != Base {
			t.Fatalf("initial state %v", s.State())
		}
		got := path{pmtu: 1400}.run(t, s)
		if got[0] != 1200 || s.State() != SearchComplete || s.Estimate() != 1400 {
			t.Fatalf("probes %v state %v estimate %d", got, s.State(), s.Estimate())
		}
	})
	t.Run("MAX_PROBES losses of BASE is ERROR", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		got := path{pmtu: 1100}.run(t, s)
		if !slices.Equal(got, []int{1200, 1200, 1200}) || s.State() != Error || s.Estimate() != 1200 {
			t.Fatalf("probes %v state %v", got, s.State())
		}
	})
	t.Run("a size fails only after MAX_PROBES losses", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		// Lose the first two tries of 1350 at random on a 1500 path.
		got := path{pmtu: 1500, lose: func(i, _ int) bool { return i == 1 || i == 2 }}.run(t, s)
		if !slices.Equal(got[:4], []int{1200, 1350, 1350, 1350}) || s.Estimate() != 1500 {
			t.Fatalf("probes %v estimate %d", got, s.Estimate())
		}
	})
	t.Run("PTB", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		size, _ := s.Next(0)
		s.OnAck(size, 0) // BASE
		size, _ = s.Next(0)
		if size != 1350 {
			t.Fatalf("first search probe %d", size)
		}
		s.OnPTB(size, 1350, 0) // not below the probe: ignored, the probe counts as lost
		if next, _ := s.Next(0); next != 1350 {
			t.Fatalf("after an invalid PTB the next probe is %d, want 1350 again", next)
		}
		s.OnPTB(1350, 1000, 0) // below Min: ignored
		if next, _ := s.Next(0); next != 1350 {
			t.Fatalf("after a PTB below Min the next probe is %d", next)
		}
		s.OnPTB(1350, 1300, 0) // valid: the next probe is the reported size
		if next, _ := s.Next(0); next != 1300 {
			t.Fatalf("after PTB 1300 the next probe is %d", next)
		}
		s.OnAck(1300, 0)
		if s.Estimate() != 1300 || s.State() != SearchComplete {
			t.Fatalf("PTB 1300 confirmed: estimate %d state %v", s.Estimate(), s.State())
		}
		// A PTB below the PLPMTU: back to BASE.
		s = mustNew(t, "rfc8899", c)
		for _, want := range []int{1200, 1350} {
			if size, _ := s.Next(0); size != want {
				t.Fatalf("probe %d, want %d", size, want)
			}
			s.OnAck(want, 0)
		}
		size, _ = s.Next(0)
		s.OnPTB(size, 1300, 0)
		if s.State() != Base || s.Estimate() != 1200 {
			t.Fatalf("after a PTB below the PLPMTU: state %v estimate %d", s.State(), s.Estimate())
		}
	})
	t.Run("black hole", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		path{pmtu: 1450}.run(t, s)
		bd := s.(BlackHoleDetector)
		for range 3 {
			bd.OnTrafficLoss(1450, time.Second)
		}
		if s.State() != Base || s.Done() {
			t.Fatalf("after 3 lost packets of PLPMTU size: state %v done %v", s.State(), s.Done())
		}
		path{pmtu: 1300}.run(t, s)
		if s.Estimate() != 1300 {
			t.Fatalf("search after the black hole found %d", s.Estimate())
		}
	})
	t.Run("raise timer", func(t *testing.T) {
		s := mustNew(t, "rfc8899", c)
		path{pmtu: 1400}.run(t, s)
		if _, ok := s.Next(PMTURaiseTimer - time.Second); ok {
			t.Fatal("probed before PMTU_RAISE_TIMER")
		}
		size, ok := s.Next(PMTURaiseTimer + time.Hour)
		if !ok || size <= 1400 || s.State() != Searching {
			t.Fatalf("after PMTU_RAISE_TIMER: %d %v %v", size, ok, s.State())
		}
	})
}

// TestMtukitExact: with no loss mtukit finds every PMTU in [1200, 1500]
// exactly; a plateau costs fewer probes than bisection.
func TestMtukitExact(t *testing.T) {
	c := Config{Min: 1200, Max: 1500}
	s := mustNew(t, "mtukit", c)
	for pmtu := 1200; pmtu <= 1500; pmtu++ {
		s.Reset()
		got := path{pmtu: pmtu}.run(t, s)
		if s.Estimate() != pmtu {
			t.Fatalf("PMTU %d: estimate %d after %v", pmtu, s.Estimate(), got)
		}
		if s.Capped() {
			t.Fatalf("PMTU %d: capped", pmtu)
		}
	}
	b := mustNew(t, "binary", c)
	for _, pmtu := range []int{1500, 1492, 1476, 1472, 1450, 1420} {
		s.Reset()
		b.Reset()
		got, bin := path{pmtu: pmtu}.run(t, s), path{pmtu: pmtu}.run(t, b)
		if len(got) >= len(bin) {
			t.Errorf("plateau %d took %d probes (%v), binary %d", pmtu, len(got), got, len(bin))
		}
	}
}

// TestMtukitLossBeforeRetest: a random loss at a size that fits makes mtukit
// probe lower before it tries that size again, and it still ends exact.
func TestMtukitLossBeforeRetest(t *testing.T) {
	s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500})
	got := path{pmtu: 1500, lose: func(i, _ int) bool { return i == 0 }}.run(t, s)
	if s.Estimate() != 1500 {
		t.Fatalf("estimate %d after %v", s.Estimate(), got)
	}
	if got[1] >= got[0] {
		t.Fatalf("after losing %d the next probe %d is not lower: %v", got[0], got[1], got)
	}
}

// TestMtukitPTB: an honest PTB names the next probe, so a path that sends
// them is found in 2 probes where bisection needs 9. A lying PTB reporting
// Min is trusted by default (as RFC 8899 §4.6.2 allows for a validated
// PTB) and ends the search at Min; with PTBConfirm 2 one lying PTB only
// costs probes.
func TestMtukitPTB(t *testing.T) {
	// The first probe is 1448 (the prior's median): below it, that probe
	// draws the PTB; above it, two acknowledged probes come first.
	for pmtu, want := range map[int]int{1201: 2, 1280: 2, 1333: 2, 1400: 2, 1417: 2, 1447: 2, 1449: 3, 1492: 4} {
		s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500})
		got := path{pmtu: pmtu, icmp: true}.run(t, s)
		if s.Estimate() != pmtu || len(got) > want {
			t.Errorf("honest PTB, PMTU %d: estimate %d after %v", pmtu, s.Estimate(), got)
		}
	}
	forged := func(confirm int) (int, []int) {
		s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500, PTBConfirm: confirm})
		first, _ := s.Next(0)
		s.OnPTB(first, 1200, 0)
		got := path{pmtu: 1500}.run(t, s)
		return s.Estimate(), got
	}
	if est, got := forged(0); est != 1200 || len(got) != 0 {
		t.Errorf("forged PTB, default trust: estimate %d after %v, want 1200 at once", est, got)
	}
	if est, got := forged(2); est != 1500 {
		t.Errorf("forged PTB, PTBConfirm 2: estimate %d after %v", est, got)
	}
	// Two agreeing PTBs are needed with PTBConfirm 2: one more probe.
	s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500, PTBConfirm: 2})
	if got := (path{pmtu: 1417, icmp: true}).run(t, s); s.Estimate() != 1417 || len(got) > 5 {
		t.Errorf("honest PTB, PTBConfirm 2: estimate %d after %v", s.Estimate(), got)
	}
}

// TestMtukitParallel: m probes per round cut the rounds to about log_{m+1}.
func TestMtukitParallel(t *testing.T) {
	rounds := func(par int) (total float64) {
		s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500, Parallel: par})
		for pmtu := 1200; pmtu <= 1500; pmtu++ {
			s.Reset()
			n := 0
			for !s.Done() {
				var round []int
				for {
					size, ok := s.Next(0)
					if !ok {
						break
					}
					round = append(round, size)
				}
				slices.Sort(round)
				for _, x := range round {
					if x <= pmtu {
						s.OnAck(x, 0)
					}
				}
				for _, x := range round {
					if x > pmtu {
						s.OnLoss(x, 0)
					}
				}
				n++
			}
			if s.Estimate() != pmtu {
				t.Fatalf("parallel %d PMTU %d: estimate %d", par, pmtu, s.Estimate())
			}
			total += float64(n)
		}
		return total / 301
	}
	one, three := rounds(1), rounds(3)
	if three > one*0.7 {
		t.Fatalf("3 probes per round: %.2f rounds, 1 per round: %.2f", three, one)
	}
}

// TestNoAllocs: a whole search, reset included, allocates nothing.
func TestNoAllocs(t *testing.T) {
	for _, name := range Names() {
		s := mustNew(t, name, Config{Min: 1200, Max: 1500, Parallel: 2})
		allocs := testing.AllocsPerRun(100, func() {
			s.Reset()
			for !s.Done() {
				size, ok := s.Next(0)
				if !ok {
					break
				}
				if size <= 1421 {
					s.OnAck(size, 0)
				} else {
					s.OnLoss(size, 0)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per search", name, allocs)
		}
	}
}

func TestDefaultPlateaus(t *testing.T) {
	want := map[int]string{1500: "Ethernet", 1492: "pppoe", 1476: "gre", 1472: "gre(key)", 1450: "vxlan", 1420: "wireguard(ipv6)", 1440: "wireguard", 1280: "IPv6", 9000: "jumbo"}
	got := map[int]string{}
	for _, p := range DefaultPlateaus() {
		got[p.MTU] = p.Why
	}
	for m, why := range want {
		if !strings.Contains(got[m], why) {
			t.Errorf("plateau %d: %q, want mention of %q", m, got[m], why)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			s := mustNew(b, name, Config{Min: 1200, Max: 1500})
			b.ReportAllocs()
			events := 0
			for i := 0; b.Loop(); i++ {
				pmtu := 1200 + i%301
				s.Reset()
				for !s.Done() {
					size, ok := s.Next(0)
					if !ok {
						break
					}
					events++
					if size <= pmtu {
						s.OnAck(size, 0)
					} else {
						s.OnLoss(size, 0)
					}
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "probes/s")
		})
	}
}

// TestMtukitHint: a hint (what fragments of a packet sent without DF say)
// given before the first probe steers mtukit to the hinted 8 bytes; right
// or wrong, the answer stays exact in a black hole, for every path MTU.
func TestMtukitHint(t *testing.T) {
	frag := func(m int) int { return 20 + (m-20)/8*8 }
	var right, wrong, none int
	for pmtu := 1200; pmtu <= 1500; pmtu++ {
		for _, tc := range []struct {
			name  string
			hint  int // MTU the fragments came from; 0: no hint
			count *int
		}{{"right", pmtu, &right}, {"wrong", 1200 + (pmtu*7919)%301, &wrong}, {"none", 0, &none}} {
			s := mustNew(t, "mtukit", Config{Min: 1200, Max: 1500, Parallel: 1})
			if tc.hint != 0 {
				s.(Hinter).Hint(frag(tc.hint), frag(tc.hint)+7)
			}
			got := path{pmtu: pmtu}.run(t, s)
			if s.Estimate() != pmtu {
				t.Fatalf("pmtu %d, %s hint %d: estimate %d after %v", pmtu, tc.name, tc.hint, s.Estimate(), got)
			}
			*tc.count += len(got)
		}
	}
	n := 301.0
	t.Logf("mean probes over [1200, 1500] in a black hole: right hint %.2f, wrong hint %.2f, none %.2f", float64(right)/n, float64(wrong)/n, float64(none)/n)
	if float64(right)/n > 5 || right >= none || wrong > 2*none {
		t.Errorf("mean probes: right hint %.2f, wrong %.2f, none %.2f", float64(right)/n, float64(wrong)/n, float64(none)/n)
	}
}

// TestLargestFragment: the fragments Linux cut in the probe lab tests
// (1332 for a 1333-byte link, 1396 for 1400, 1444 behind a VXLAN of 1450),
// RFC 791's 576 and 1500, and the hint's range holding the MTU.
func TestLargestFragment(t *testing.T) {
	for mtu, want := range map[int]int{1333: 1332, 1400: 1396, 1450: 1444, 576: 572, 1500: 1500, 68: 68} {
		f := LargestFragment(mtu)
		lo, hi := FragmentHint(f)
		if f != want || mtu < lo || mtu > hi {
			t.Errorf("MTU %d: largest fragment %d (want %d), hint [%d, %d]", mtu, f, want, lo, hi)
		}
	}
}

// TestMtukitBudget: without random loss, mtukit finds every path MTU
// exactly in at most ceil(log2 N)+2 probes (N = Max-Min+1), exhaustively:
// IPv4 and IPv6 search ranges (and a 68-byte floor, a jumbo ceiling), every
// path MTU, routers that send PTBs and black holes, and behind an IPv4
// black hole every fragment hint the prober can hand over (the right one,
// every wrong one, a packet that came whole), given after the first lost
// probe as the prober and the simulator do, or before the first probe.
func TestMtukitBudget(t *testing.T) {
	type hinting int
	const (
		noHint hinting = iota
		afterLoss
		before
	)
	for _, tc := range []struct {
		name     string
		min, max int
		hints    bool // IPv4: fragments give hints
		stride   int  // path MTUs tried: every stride-th (1: all; the wide IPv4 ranges try every hint on a sample)
	}{
		{"ipv4", 1200, 1500, true, 1},
		{"ipv6", 1280, 1500, false, 1},
		{"ipv4 from 68", 68, 1500, true, 7},
		{"ipv6 jumbo", 1280, 9000, false, 1},
		{"ipv4 jumbo", 1200, 9000, true, 211},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := log2ceil(tc.max-tc.min+1) + 2
			s := mustNew(t, "mtukit", Config{Min: tc.min, Max: tc.max})
			// Every hint a probe of Max without DF can give: the windows of
			// the largest fragments a link in range cuts, and Max itself.
			windows := [][2]int{{tc.max, tc.max}}
			for f := LargestFragment(tc.min); f <= tc.max; f += 8 {
				if lo, hi := FragmentHint(f); f < tc.max {
					windows = append(windows, [2]int{lo, hi})
				}
			}
			worst := map[string]int{}
			run := func(what string, pmtu int, icmp bool, when hinting, w [2]int) {
				s.Reset()
				if when == before {
					s.(Hinter).Hint(w[0], w[1])
				}
				var sent []int
				lost := false
				for !s.Done() {
					size, ok := s.Next(0)
					if !ok {
						t.Fatalf("%s pmtu %d: stalled after %v", what, pmtu, sent)
					}
					sent = append(sent, size)
					switch {
					case size <= pmtu:
						s.OnAck(size, 0)
					case icmp:
						s.OnPTB(size, pmtu, 0)
					default:
						s.OnLoss(size, 0)
						if when == afterLoss && !lost {
							s.(Hinter).Hint(w[0], w[1])
						}
						lost = true
					}
					if len(sent) > budget {
						t.Fatalf("%s pmtu %d hint %v: more than %d probes: %v", what, pmtu, w, budget, sent)
					}
				}
				if s.Estimate() != pmtu || s.Capped() {
					t.Fatalf("%s pmtu %d hint %v: estimate %d (capped %v) after %v", what, pmtu, w, s.Estimate(), s.Capped(), sent)
				}
				worst[what] = max(worst[what], len(sent))
			}
			for pmtu := tc.min; pmtu <= tc.max; pmtu += tc.stride {
				run("ptb", pmtu, true, noHint, [2]int{})
				run("black hole", pmtu, false, noHint, [2]int{})
				if !tc.hints {
					continue
				}
				right := [2]int{pmtu, pmtu}
				if pmtu < tc.max {
					right = [2]int{LargestFragment(pmtu), LargestFragment(pmtu) + 7}
				}
				run("right hint", pmtu, false, afterLoss, right)
				run("right hint first", pmtu, false, before, right)
				for _, w := range windows {
					if w != right {
						run("wrong hint", pmtu, false, afterLoss, w)
					}
				}
			}
			t.Logf("budget %d probes; most sent: %v", budget, worst)
		})
	}
}
