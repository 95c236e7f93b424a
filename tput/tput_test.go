package tput

import (
	"math"
	"testing"
	"time"

	"github.com/mtukit/mtukit/encap"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsInf(want, 1) && math.IsInf(got, 1) {
		return
	}
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f (±%g)", what, got, want, tol)
	}
}

// The seed article's example: MSS 1460 vs 1400 at 100 ms and 1% loss with
// C = 1 is 1.168 vs 1.12 Mbit/s (its arithmetic is right there; only its
// constant is not Mathis's). With C = sqrt(3/2) the figures are 1.4305 and
// 1.3717 Mbit/s; with delayed ACKs (b = 2, C = sqrt(3/4)) 1.0115 and 0.9699.
func TestMathisSeedExample(t *testing.T) {
	rtt := 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		mss  int
		c    float64
		want float64 // bit/s, worked by hand: mss*8/0.1/0.1*C
	}{
		{"seed 1460 C=1", 1460, 1, 1168000},
		{"seed 1400 C=1", 1400, 1, 1120000},
		{"1460 C=sqrt(3/2)", 1460, MathisC(1), 1168000 * 1.224744871391589},
		{"1400 C=sqrt(3/2)", 1400, MathisC(1), 1120000 * 1.224744871391589},
		{"1460 delayed ACK C=sqrt(3/4)", 1460, MathisC(2), 1168000 * 0.8660254037844386},
	} {
		t.Run(tc.name, func(t *testing.T) {
			near(t, "Mathis", float64(Mathis(tc.mss, rtt, 0.01, tc.c)), tc.want, 0.01)
		})
	}
	near(t, "C(1)", MathisC(1), 1.2247448713915890, 1e-15)
	if got := Mathis(1460, rtt, 0.01, MathisC(1)).String(); got != "1.431 Mbit/s" {
		t.Errorf("String = %q", got)
	}
	if got := Mathis(1460, rtt, 0, 1); !got.IsUnlimited() {
		t.Errorf("no loss: %v, want unlimited", got)
	}
}

// The seed's window claims, corrected: a 1 MiB window at 100 ms is
// 83.886 Mbit/s (it says 780), and window scale 7 with a full 16-bit field
// is 8 MiB, not 1 MB; 1 MiB needs scale 5.
func TestWindowSeedCorrected(t *testing.T) {
	rtt := 100 * time.Millisecond
	near(t, "1 MiB / 100 ms", float64(WindowLimit(1<<20, rtt)), 83886080, 1e-6)
	if got := WindowLimit(1<<20, rtt).String(); got != "83.89 Mbit/s" {
		t.Errorf("String = %q, want 83.89 Mbit/s", got)
	}
	w, err := ScaledWindow(65535, 7)
	if err != nil || w != 8388480 {
		t.Fatalf("65535<<7 = %d, %v", w, err)
	}
	near(t, "65535<<7 / 100 ms", float64(WindowLimit(w, rtt)), 671078400, 1e-6)
	if s, _ := ScaleFor(1 << 20); s != 5 {
		t.Errorf("ScaleFor(1 MiB) = %d, want 5 (65535<<4 = 1048560 is 16 bytes short)", s)
	}
	if s, _ := ScaleFor(65535); s != 0 {
		t.Errorf("ScaleFor(65535) = %d", s)
	}
	if _, err := ScaleFor(int64(65535)<<14 + 1); err == nil {
		t.Error("ScaleFor above 65535<<14 should fail")
	}
	if n := WindowNeeded(1e9, rtt); n != 12500000 {
		t.Errorf("WindowNeeded(1G, 100ms) = %d, want 12500000", n)
	}
	near(t, "BDP 100M 20ms", BDP(100e6, 20*time.Millisecond), 250000, 1e-9)
	for _, tc := range []struct {
		name         string
		field, shift int
	}{{"field too big", 65536, 0}, {"negative field", -1, 0}, {"scale 15", 1, 15}, {"negative scale", 1, -1}} {
		if _, err := ScaledWindow(tc.field, tc.shift); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if err := CheckWindow(1<<30 + 1); err == nil {
		t.Error("window above 1 GiB accepted")
	}
	if err := CheckWindow(1 << 30); err != nil {
		t.Errorf("1 GiB refused: %v", err)
	}
}

// pftkRef recomputes the PFTK full model from the paper's renewal-reward
// quantities, derived independently of the closed forms in loss.go:
// E[W] solves the quadratic of E[Y] (3b/8 W^2 - (b+2)/4 W - (1-p)/p = 0) by
// bisection; f(p) comes from summing E[Z_TO] = sum_k L_k p^(k-1)(1-p) with
// L_k = 2^k - 1 (k <= 6), 63 + 64(k-6) (k >= 7); E[R] = sum k p^(k-1)(1-p);
// and Q-hat is summed from A(w,k) and C(k,m) (integer w), or taken from q
// when given.
func pftkRef(p, rtt, t0, b, wmax float64, q func(w float64) float64) float64 {
	lo, hi := 0.0, 1e9
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if 3*b/8*mid*mid-(b+2)/4*mid-(1-p)/p > 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
	ew := (lo + hi) / 2
	var ezto, er float64
	for k := 1; k < 400; k++ {
		pk := math.Pow(p, float64(k-1)) * (1 - p)
		l := math.Pow(2, float64(k)) - 1
		if k >= 7 {
			l = 63 + 64*float64(k-6)
		}
		ezto += l * t0 * pk
		er += float64(k) * pk
	}
	var w, ex float64
	if wmax <= 0 || ew < wmax {
		w, ex = ew, b*ew/2
	} else {
		w = wmax
		u := b * wmax / 2
		v := (1-p)/(p*wmax) + 1 - 3*b*wmax/8
		ex = u + v
	}
	qq := q(w)
	ey := (1-p)/p + w
	ea := rtt * (ex + 1)
	return (ey + qq*er) / (ea + qq*ezto)
}

// qSum is Q-hat(w) summed from its definition (PFTK eq. 21-23): a timeout
// unless at least 3 segments of the penultimate round and 3 of the last
// round are ACKed.
func qSum(p float64, w int) float64 {
	if w <= 3 {
		return 1
	}
	a := func(k int) float64 { return math.Pow(1-p, float64(k)) * p / (1 - math.Pow(1-p, float64(w))) }
	c := func(n, m int) float64 {
		if m <= n-1 {
			return math.Pow(1-p, float64(m)) * p
		}
		return math.Pow(1-p, float64(n))
	}
	s := 0.0
	for k := 0; k <= 2; k++ {
		s += a(k)
	}
	for k := 3; k <= w-1; k++ {
		inner := 0.0
		for m := 0; m <= 2; m++ {
			inner += c(k, m)
		}
		s += a(k) * inner
	}
	return math.Min(1, s)
}

func TestPFTKQClosedFormMatchesSum(t *testing.T) {
	for _, p := range []float64{0.0001, 0.001, 0.01, 0.05, 0.2, 0.5} {
		for w := 1; w <= 200; w++ {
			near(t, "Q", pftkQ(p, float64(w)), qSum(p, w), 1e-12)
		}
	}
}

func TestPFTKFullModel(t *testing.T) {
	for _, tc := range []struct {
		name          string
		p, rtt, t0, b float64
		wmax          int
	}{
		{"1% 100ms b=1 unlimited", 0.01, 0.1, 0.3, 1, 0},
		{"1% 100ms b=2 unlimited", 0.01, 0.1, 0.3, 2, 0},
		{"0.1% 20ms b=2 unlimited", 0.001, 0.02, 0.22, 2, 0},
		{"5% 200ms b=1 unlimited", 0.05, 0.2, 1, 1, 0},
		{"0.01% 50ms window 20", 0.0001, 0.05, 0.25, 1, 20},
		{"0.1% 100ms window 6", 0.001, 0.1, 0.3, 2, 6},
		{"1% 10ms window 4", 0.01, 0.01, 0.21, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prm := PFTKParams{RTT: time.Duration(tc.rtt * 1e9), T0: time.Duration(tc.t0 * 1e9), B: int(tc.b), Wmax: float64(tc.wmax)}
			got := PFTK(tc.p, prm)
			q := func(w float64) float64 {
				if w == math.Trunc(w) {
					return qSum(tc.p, int(w))
				}
				// E[Wu] is not an integer: the closed form's analytic
				// extension, restated here.
				x := 1 - tc.p
				return math.Min(1, (1-x*x*x)*(1+x*x*x*(1-math.Pow(x, w-3)))/(1-math.Pow(x, w)))
			}
			want := pftkRef(tc.p, tc.rtt, tc.t0, tc.b, float64(tc.wmax), q)
			near(t, "segments/s", got, want, want*1e-9)
			approx := PFTKApprox(tc.p, prm)
			if r := approx / got; r < 0.5 || r > 2 {
				t.Errorf("approximation %.2f vs full %.2f: ratio %.2f", approx, got, r)
			}
		})
	}
}

// With no timeouts (T0 = 0) and small p, PFTK tends to Mathis with
// C = sqrt(3/(2b)), as both papers say.
func TestPFTKTendsToMathis(t *testing.T) {
	for _, b := range []int{1, 2} {
		p := 1e-7
		seg := PFTK(p, PFTKParams{RTT: 100 * time.Millisecond, B: b})
		mathis := float64(Mathis(1, 100*time.Millisecond, p, MathisC(b))) / 8
		if r := seg / mathis; math.Abs(r-1) > 0.002 {
			t.Errorf("b=%d: PFTK/Mathis = %.5f, want 1", b, r)
		}
	}
	// The approximation: 1/(RTT sqrt(2bp/3)) is Mathis exactly when T0 = 0.
	seg := PFTKApprox(0.01, PFTKParams{RTT: 100 * time.Millisecond, B: 1})
	near(t, "approx", seg*1460*8, 1168000*1.224744871391589, 0.01)
	// p = 0: window only.
	near(t, "no loss", PFTK(0, PFTKParams{RTT: time.Second, Wmax: 10}), 10, 0)
	if !math.IsInf(PFTK(0, PFTKParams{RTT: time.Second}), 1) {
		t.Error("no loss, no window: want +Inf")
	}
}

func TestStall(t *testing.T) {
	for _, tc := range []struct {
		t0, detect, want time.Duration
	}{
		{300 * time.Millisecond, 3 * time.Second, 4500 * time.Millisecond}, // 0.3, 0.9, 2.1, 4.5
		{time.Second, 3 * time.Second, 3 * time.Second},                    // 1, 3
		{200 * time.Millisecond, 3 * time.Second, 3 * time.Second},         // 15 x 200 ms
		{time.Second, 0, time.Second},
	} {
		if got := Stall(tc.t0, tc.detect); got != tc.want {
			t.Errorf("Stall(%v, %v) = %v, want %v", tc.t0, tc.detect, got, tc.want)
		}
	}
}

func TestFragmentSizes(t *testing.T) {
	got, err := fragmentSizes(1500, 1400)
	if err != nil || len(got) != 2 || got[0] != 1396 || got[1] != 124 {
		t.Fatalf("1500 at 1400 = %v, %v; want [1396 124]", got, err)
	}
	got, _ = fragmentSizes(1400, 1400)
	if len(got) != 1 || got[0] != 1400 {
		t.Fatalf("1400 at 1400 = %v", got)
	}
	got, _ = fragmentSizes(1500, 576)
	sum := 0
	for _, n := range got {
		sum += n - 20
		if n > 576 || (n-20)%8 != 0 && n != got[len(got)-1] {
			t.Errorf("fragment %d", n)
		}
	}
	if len(got) != 3 || sum != 1480 {
		t.Errorf("1500 at 576 = %v", got)
	}
}

func base() Params {
	return Params{Family: encap.IPv4, LinkMTU: 1500, Framing: EthernetFraming, Options: TimestampOptions,
		Rate: 1e9, RTT: 100 * time.Millisecond, Window: 1 << 30, AckEvery: 1}
}

// Link limit: payload over every byte on the wire, against figures worked
// by hand from overheads.md.
func TestLinkLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stack    string
		opts     int
		mss      int
		wantWire int
		wantPay  int
	}{
		{"plain 1460 no options", "", 0, 1460, 1538, 1460},
		{"plain 1460 timestamps (941.5 Mbit/s)", "", 12, 1460, 1538, 1448},
		{"802.1Q tag outside the MTU", "dot1q", 12, 1460, 1542, 1448},
		{"pppoe 1452", "pppoe", 12, 1452, 1500 + 38, 1440},
		{"wireguard 1380: 1420 padded to 1424, + 60", "wireguard", 12, 1380, 1424 + 60 + 38, 1368},
		// ESP AES-CBC/SHA1 tunnel: 20 + 8 + IV 16 + P + pad + 2 + ICV 12,
		// pad = (-(P+2)) mod 16. P = 1438: pad 0, 1496. P = 1420: pad 2, 1480.
		{"esp cbc sha1 1398", "esp(aes-cbc,sha1)", 12, 1398, 1496 + 38, 1386},
		{"esp cbc sha1 1380", "esp(aes-cbc,sha1)", 12, 1380, 1480 + 38, 1368},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			p.Options = tc.opts
			if tc.stack != "" {
				p.Stack = encap.MustParse(tc.stack)
			}
			l, err := p.Evaluate(tc.mss)
			if err != nil {
				t.Fatal(err)
			}
			if l.Wire != tc.wantWire || l.Payload != tc.wantPay || !l.Fits {
				t.Fatalf("wire %d payload %d fits %v, want %d %d", l.Wire, l.Payload, l.Fits, tc.wantWire, tc.wantPay)
			}
			near(t, "link", float64(l.Link), 1e9*float64(tc.wantPay)/float64(tc.wantWire), 1e-3)
			if l.Binding != LimitLink || l.Goodput != l.Link {
				t.Errorf("binding %s goodput %v", l.Binding, l.Goodput)
			}
		})
	}
	p := base()
	l, _ := p.Evaluate(1460)
	if got := l.Link.String(); got != "941.5 Mbit/s" {
		t.Errorf("GbE with timestamps = %s, want 941.5 Mbit/s", got)
	}
}

func TestBindingLimit(t *testing.T) {
	p := base()
	p.Loss = 0.01
	p.Model = ModelMathis
	l, _ := p.Evaluate(1460)
	if l.Binding != LimitLoss {
		t.Fatalf("1%% loss at 100 ms: binding %s", l.Binding)
	}
	near(t, "mathis", float64(l.Goodput), 1448*8/0.1*MathisC(1)/0.1, 1e-6)
	p.Loss, p.Window = 0, 1<<20
	l, _ = p.Evaluate(1460)
	if l.Binding != LimitWindow || float64(l.Goodput) != 83886080 {
		t.Fatalf("1 MiB window: binding %s %v", l.Binding, l.Goodput)
	}
	p.Stack = encap.MustParse("wireguard")
	l, _ = p.Evaluate(1460)
	if l.Fits || l.Binding != LimitMTU || l.Goodput != 0 {
		t.Fatalf("1460 in wireguard: fits %v binding %s", l.Fits, l.Binding)
	}
	// PFTK with the window: Wmax is the window in segments.
	p = base()
	p.Loss, p.Window = 0.001, 64<<10
	l, _ = p.Evaluate(1460)
	want := PFTK(0.001, PFTKParams{RTT: p.RTT, T0: 300 * time.Millisecond, B: 1, Wmax: 65536.0 / 1448}) * 1448 * 8
	near(t, "pftk", float64(l.PFTK), want, 1e-6)
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Params)
	}{
		{"negative RTT", func(p *Params) { p.RTT = -time.Millisecond }},
		{"zero RTT", func(p *Params) { p.RTT = 0 }},
		{"loss 1", func(p *Params) { p.Loss = 1 }},
		{"negative loss", func(p *Params) { p.Loss = -0.1 }},
		{"NaN loss", func(p *Params) { p.Loss = math.NaN() }},
		{"window above 1 GiB", func(p *Params) { p.Window = 1<<30 + 1 }},
		{"zero window", func(p *Params) { p.Window = 0 }},
		{"zero rate", func(p *Params) { p.Rate = 0 }},
		{"link MTU 67", func(p *Params) { p.LinkMTU = 67 }},
		{"options 13", func(p *Params) { p.Options = 13 }},
		{"family 5", func(p *Params) { p.Family = 5 }},
		{"ipv6 below 1280", func(p *Params) { p.Family = encap.IPv6; p.LinkMTU = 1279 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.mod(&p)
			if err := p.Validate(); err == nil {
				t.Fatal("no error")
			}
		})
	}
	p := base()
	if _, err := p.Evaluate(12); err == nil {
		t.Error("MSS 12 with 12 option bytes accepted")
	}
	if _, err := p.Evaluate(65500); err == nil {
		t.Error("MSS 65500 accepted")
	}
}
