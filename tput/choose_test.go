package tput

import (
	"math"
	"testing"

	"github.com/mtukit/mtukit/encap"
)

// linkBound is a path where only the link binds (no loss, 1 GiB window), so
// goodput(m) = rate x (m - 12) / (m + 40 + 38) and expectations can be
// worked by hand.
func linkBound() Params {
	p := base()
	p.Rate = 100e6
	return p
}

func gLink(rate float64, mss int) float64 { return rate * float64(mss-12) / float64(mss+40+38) }

func TestExpectedBlackHole(t *testing.T) {
	p := linkBound()
	d := Dist{{Prob: 1, PathMTU: 1500}, {Prob: 1, PathMTU: 1420}}
	c := DefaultCost(12)
	bits := float64(c.Transfer) * 8
	stall := 4.5 // T0 = 100 ms + 200 ms = 0.3 s: 0.3, 0.9, 2.1, 4.5 s >= 3 s
	g1380, g1460, g1024 := gLink(100e6, 1380), gLink(100e6, 1460), gLink(100e6, 1036)

	o, err := p.Expected(1380, d, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "1380 fits both", float64(o.Expected), g1380, 1e-6)
	near(t, "P(fit) 1380", o.PFit, 1, 0)

	o, _ = p.Expected(1460, d, c)
	want := 0.5*g1460 + 0.5*bits/(stall+bits/g1024)
	near(t, "1460 half black-holed", float64(o.Expected), want, 1e-6)
	near(t, "P(fit) 1460", o.PFit, 0.5, 1e-12)

	best, all, err := p.Best(d, c, 1000, 1460)
	if err != nil {
		t.Fatal(err)
	}
	if best.MSS != 1380 || len(all) != 461 {
		t.Fatalf("best %d over %d candidates, want 1380 (10 MiB: the stall costs more than 80 bytes a segment)", best.MSS, len(all))
	}
	// Even 1 TiB does not pay here: half the time 1460 ends at the
	// fallback, and (g1460 + g1024)/2 = 93.03 < g1380 = 93.83 Mbit/s.
	c.Transfer = 1 << 40
	if best, _, _ = p.Best(d, c, 1000, 1460); best.MSS != 1380 {
		t.Fatalf("1 TiB transfer, 50%% at 1420: best %d, want 1380", best.MSS)
	}
	// When 1420 is rare (10%), a huge transfer amortises the stall and 1460
	// wins (0.9 x 94.15 + 0.1 x 91.92 = 93.93); at 10 MiB it still loses.
	d9 := Dist{{Prob: 9, PathMTU: 1500}, {Prob: 1, PathMTU: 1420}}
	if best, _, _ = p.Best(d9, c, 1000, 1460); best.MSS != 1460 {
		t.Fatalf("1 TiB transfer, 10%% at 1420: best %d, want 1460", best.MSS)
	}
	if best, _, _ = p.Best(d9, DefaultCost(12), 1000, 1460); best.MSS != 1380 {
		t.Fatalf("10 MiB transfer, 10%% at 1420: best %d, want 1380", best.MSS)
	}
	// No black-hole detection: too large means no goodput at all.
	c = DefaultCost(12)
	c.Never = true
	o, _ = p.Expected(1460, d, c)
	near(t, "hang", float64(o.Expected), 0.5*g1460, 1e-6)

	cmp, err := p.Compare(Outcome{MSS: 1380, Expected: Rate(g1380)}, d, DefaultCost(12), map[string]int{"1460": 1460, "clamp": 1380, "1360": 1360})
	if err != nil || len(cmp) != 3 || cmp[0].MSS != 1460 || cmp[1].Label != "clamp" || cmp[2].MSS != 1360 {
		t.Fatalf("compare = %+v, %v", cmp, err)
	}
	near(t, "shortfall 1360", cmp[2].Shortfall, 1-gLink(100e6, 1360)/g1380, 1e-12)
	near(t, "shortfall clamp", cmp[1].Shortfall, 0, 1e-12)
}

func TestExpectedPMTUD(t *testing.T) {
	p := linkBound()
	d := Dist{{Prob: 1, PathMTU: 1420}}
	c := Cost{TooBig: TooBigPMTUD, Transfer: 1e6}
	bits := 8e6
	o, _ := p.Expected(1460, d, c)
	// The first segment bounces, the sender learns 1420 in one RTT.
	near(t, "pmtud", float64(o.Expected), bits/(0.1+bits/gLink(100e6, 1380)), 1e-6)
	best, _, _ := p.Best(d, c, 1300, 1460)
	if best.MSS != 1380 {
		t.Fatalf("best %d", best.MSS)
	}
}

func TestExpectedFragment(t *testing.T) {
	p := base()
	p.Rate, p.Loss, p.Model = 1e9, 0.01, ModelMathis
	d := Dist{{Prob: 1, PathMTU: 1400}}
	c := Cost{TooBig: TooBigFragment, Transfer: 1e6}
	o, err := p.Expected(1460, d, c)
	if err != nil {
		t.Fatal(err)
	}
	// 1500-byte packet at 1400: fragments 1396 + 124; a segment is lost when
	// either is: 1 - 0.99^2 = 0.0199.
	l, _ := p.eval(1460, nil, 1400, true)
	if l.Fragments != 2 || l.Wire != 1396+124+2*38 {
		t.Fatalf("fragments %d wire %d", l.Fragments, l.Wire)
	}
	near(t, "segment loss", l.SegmentLoss, 0.0199, 1e-15)
	want := 1448 * 8 / 0.1 * MathisC(1) / math.Sqrt(0.0199)
	near(t, "fragmented goodput", float64(o.Expected), want, 1e-6)
	// The fitting MSS (1360) beats fragmenting 1460 under loss.
	best, _, _ := p.Best(d, c, 1200, 1460)
	if best.MSS != 1360 {
		t.Fatalf("best %d, want 1360", best.MSS)
	}
	p.Family = encap.IPv6
	if _, err := p.Expected(1440, Dist{{Prob: 1, PathMTU: 1400}}, c); err == nil {
		t.Fatal("IPv6 fragmentation accepted")
	}
}

// Linux falls back to tcp_base_mss, and halves again while that does not fit.
func TestBlackHoleFallbackHalves(t *testing.T) {
	p := linkBound()
	d := Dist{{Prob: 1, PathMTU: 1000}}
	c := DefaultCost(12) // fallback MSS 1036: packet 1076 > 1000, halve to 524
	bits := float64(c.Transfer) * 8
	o, _ := p.Expected(1460, d, c)
	near(t, "two stalls", float64(o.Expected), bits/(9+bits/gLink(100e6, 524)), 1e-6)
}

func TestCostErrors(t *testing.T) {
	p := linkBound()
	d := Dist{{Prob: 1, PathMTU: 1500}}
	for _, tc := range []struct {
		name string
		c    Cost
		d    Dist
	}{
		{"no transfer", Cost{TooBig: TooBigPMTUD}, d},
		{"bad mode", Cost{TooBig: 9, Transfer: 1}, d},
		{"fallback below options", Cost{Transfer: 1, FallbackMSS: 12}, d},
		{"empty dist", Cost{TooBig: TooBigPMTUD, Transfer: 1}, nil},
		{"zero weight", Cost{TooBig: TooBigPMTUD, Transfer: 1}, Dist{{Prob: 0, PathMTU: 1500}}},
		{"bad MTU", Cost{TooBig: TooBigPMTUD, Transfer: 1}, Dist{{Prob: 1, PathMTU: 20}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.Expected(1400, tc.d, tc.c); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, _, err := p.Best(d, DefaultCost(12), 1400, 1300); err == nil {
		t.Fatal("empty range accepted")
	}
}

func TestParseDist(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		want map[int]float64
	}{
		{"point", "1420", map[int]float64{1420: 1}},
		{"range, inclusive", "1400:1403", map[int]float64{1400: .25, 1401: .25, 1402: .25, 1403: .25}},
		{"weights", "1500=0.6, 1492=0.3,1420=0.1", map[int]float64{1500: .6, 1492: .3, 1420: .1}},
		{"repeats add", "1500,1500,1420", map[int]float64{1500: 2.0 / 3, 1420: 1.0 / 3}},
		{"weighted range", "1400:1401=0.5,1500=0.5", map[int]float64{1400: .25, 1401: .25, 1500: .5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDist(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(d) != len(tc.want) {
				t.Fatalf("%d scenarios, want %d", len(d), len(tc.want))
			}
			for _, s := range d {
				near(t, "prob", s.Prob, tc.want[s.PathMTU], 1e-12)
			}
		})
	}
	for _, bad := range []string{"", "x", "1420=", "1420=0", "1420=-1", "1420=NaN", "1500:1400", "1:2", "70000", ",", "1400,", "1400:", "1400=1=2", "68:65535,68:65535", "1500=3,1420=1", "1500=0.6,1420"} {
		if _, err := ParseDist(bad); err == nil {
			t.Errorf("ParseDist(%q) accepted", bad)
		}
	}
}

// Tunnel types take every MTU from package encap; the figures are those of
// overheads.md on a 1500-byte IPv4 path.
func TestTunnel(t *testing.T) {
	d, err := Tunnel("ipsec", 1500, nil, encap.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range d {
		got[s.Label] = s.PathMTU
		near(t, "uniform", s.Prob, 1.0/12, 1e-12)
	}
	for spec, want := range map[string]int{"esp(aes-gcm-16)": 1446, "esp(aes-gcm-16,nat-t)": 1438, "esp(aes-cbc,sha1)": 1438} {
		if got[spec] != want {
			t.Errorf("%s: %d, want %d (all: %v)", spec, got[spec], want, got)
		}
	}
	d, _ = Tunnel("wireguard", 1500, nil, encap.IPv4)
	if d.MaxPathMTU() != 1440 || d.MinPathMTU() != 1420 {
		t.Errorf("wireguard: %d..%d, want 1420..1440", d.MinPathMTU(), d.MaxPathMTU())
	}
	d, _ = Tunnel("wireguard", 1492, encap.MustParse("pppoe"), encap.IPv4)
	if d.MaxPathMTU() != 1424 {
		t.Errorf("wireguard over pppoe on 1492: %d", d.MaxPathMTU())
	}
	for _, name := range TunnelTypes() {
		d, err := Tunnel(name, 1500, nil, encap.IPv4)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := 0.0
		for _, s := range d {
			sum += s.Prob
		}
		near(t, name+" total", sum, 1, 1e-9)
	}
	// mix: each of the 8 types weighs 1/8, shared among its variants.
	d, _ = Tunnel("mix", 1500, nil, encap.IPv4)
	for _, s := range d {
		if s.Label == "wireguard" {
			near(t, "mix wireguard", s.Prob, 1.0/8/2, 1e-12)
		}
	}
	if _, err := Tunnel("nosuch", 1500, nil, encap.IPv4); err == nil {
		t.Error("unknown tunnel accepted")
	}
	// Under "some IPsec" with black holes, the best MSS is the one that fits
	// the smallest variant, unless the transfer is long enough to pay a stall.
	p := linkBound()
	d, _ = Tunnel("ipsec", 1500, nil, encap.IPv4)
	best, _, err := p.Best(d, DefaultCost(12), 1200, 1460)
	if err != nil {
		t.Fatal(err)
	}
	if best.MSS != d.MinPathMTU()-40 {
		t.Errorf("best %d, want %d", best.MSS, d.MinPathMTU()-40)
	}
}

func TestParseRateAndBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rate
	}{
		{"1G", 1e9}, {"100M", 100e6}, {"100Mbit/s", 100e6}, {"2.5e9", 2.5e9}, {"10 Gbps", 10e9}, {"56k", 56e3}, {"1Tbit", 1e12}, {"64000", 64000},
	} {
		got, err := ParseRate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "fast", "100MB/s", "100MB", "-1G", "0", "1m", "NaN", "Inf", "1e300"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20}, {"1MiB", 1 << 20}, {"64KiB", 64 << 10}, {"1 GiB", 1 << 30}, {"10MB", 10e6}, {"1.5KiB", 1536}, {"100B", 100},
	} {
		got, err := ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1M", "1k", "1G", "-1", "1.5", "x", "1e30"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		r    Rate
		want string
	}{{83886080, "83.89 Mbit/s"}, {1168000, "1.168 Mbit/s"}, {941.5e6, "941.5 Mbit/s"}, {10e9, "10.00 Gbit/s"}, {512, "512.0 bit/s"}, {Unlimited, "unlimited"}} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%v String = %q, want %q", float64(tc.r), got, tc.want)
		}
	}
}

func TestRateJSON(t *testing.T) {
	b, _ := Unlimited.MarshalJSON()
	if string(b) != "null" {
		t.Errorf("unlimited = %s", b)
	}
	b, _ = Rate(83886080).MarshalJSON()
	if string(b) != "83886080" {
		t.Errorf("83886080 = %s", b)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := base()
	p.Loss = 0.001
	p.Stack = encap.MustParse("esp(aes-cbc,sha1)")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Evaluate(1380); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBestIPsec(b *testing.B) {
	p := base()
	p.Loss = 0.001
	d, _ := Tunnel("ipsec", 1500, nil, encap.IPv4)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Best(d, DefaultCost(12), 1200, 1460); err != nil {
			b.Fatal(err)
		}
	}
}
