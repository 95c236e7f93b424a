package tput

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/mtukit/mtukit/encap"
)

// Scenario is one possibility for the true path.
type Scenario struct {
	// Prob is the probability of the scenario; a Dist's add up to 1.
	Prob float64 `json:"prob"`
	// PathMTU is the largest IP packet of the connection that crosses the path.
	PathMTU int `json:"path_mtu"`
	// Stack, when set, is the encapsulation of this scenario (a tunnel
	// type's variant); nil means Params.Stack.
	Stack *encap.Stack `json:"-"`
	Label string       `json:"label,omitempty"`
}

// Dist is a probability distribution over the true path.
type Dist []Scenario

// Normalize returns d with probabilities scaled to add up to 1, after
// checking every scenario.
func (d Dist) Normalize() (Dist, error) {
	if len(d) == 0 {
		return nil, fmt.Errorf("path MTU distribution is empty")
	}
	top := 0.0
	for _, s := range d {
		top = max(top, s.Prob)
	}
	total := 0.0
	for _, s := range d {
		if !(s.Prob > 0) || math.IsInf(s.Prob, 0) {
			return nil, fmt.Errorf("path MTU %d has weight %v: weights must be positive", s.PathMTU, s.Prob)
		}
		if err := encap.CheckLinkMTU(s.PathMTU); err != nil {
			return nil, fmt.Errorf("path MTU %d outside %d..%d", s.PathMTU, encap.MinLinkMTU, encap.MaxLinkMTU)
		}
		total += s.Prob / top // scaled by the largest: no overflow
	}
	out := make(Dist, len(d))
	for i, s := range d {
		s.Prob = s.Prob / top / total
		if s.Prob == 0 {
			return nil, fmt.Errorf("path MTU %d: weight %v is negligible next to %v", s.PathMTU, d[i].Prob, top)
		}
		out[i] = s
	}
	return out, nil
}

// MaxPathMTU is the largest path MTU in d.
func (d Dist) MaxPathMTU() int {
	m := 0
	for _, s := range d {
		m = max(m, s.PathMTU)
	}
	return m
}

// MinPathMTU is the smallest path MTU in d.
func (d Dist) MinPathMTU() int {
	m := math.MaxInt
	for _, s := range d {
		m = min(m, s.PathMTU)
	}
	return m
}

// TooBig is what happens to a segment larger than the path MTU.
type TooBig uint8

const (
	// TooBigBlackHole: DF is set and the ICMP error never arrives; the
	// sender stalls until its black-hole detection lowers the MSS.
	TooBigBlackHole TooBig = iota
	// TooBigPMTUD: ICMP "packet too big" arrives; one round trip is lost.
	TooBigPMTUD
	// TooBigFragment: IPv4 without DF; every segment is fragmented.
	TooBigFragment
)

var tooBigNames = [...]string{"blackhole", "pmtud", "fragment"}

func (t TooBig) String() string {
	if int(t) < len(tooBigNames) {
		return tooBigNames[t]
	}
	return fmt.Sprintf("TooBig(%d)", t)
}

// MarshalText makes the mode a JSON string.
func (t TooBig) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ParseTooBig reads "blackhole", "pmtud" or "fragment".
func ParseTooBig(s string) (TooBig, error) {
	for i, n := range tooBigNames {
		if s == n {
			return TooBig(i), nil
		}
	}
	return 0, fmt.Errorf("too-big behaviour %q: want blackhole, pmtud or fragment", s)
}

// LinuxDetect is when Linux's black-hole detection (tcp_mtu_probing=1)
// fires: at the first retransmission timeout at least
// (2^(tcp_retries1+1) - 1) x TCP_RTO_MIN = 15 x 200 ms = 3 s after the
// lost segment was first sent (tcp_write_timeout, retransmits_timed_out).
const LinuxDetect = 3 * time.Second

// LinuxBaseMSS is Linux's tcp_base_mss: the payload a sender falls back to
// when it detects a black hole.
const LinuxBaseMSS = 1024

// Cost is the price of an MSS that is too large.
type Cost struct {
	TooBig TooBig `json:"too_big"`
	// Transfer is the bytes a connection moves; one-off stalls are spread
	// over it.
	Transfer int64 `json:"transfer_bytes"`
	// Detect is how long a black-holed sender waits before it lowers its
	// MSS: the stall ends at the first retransmission timeout, T0 (2^k - 1)
	// with exponential backoff, that is at least Detect. Never means the
	// sender has no black-hole detection and the connection hangs.
	Detect time.Duration `json:"detect_ns"`
	Never  bool          `json:"never_detects"`
	// FallbackMSS is the MSS the sender drops to (then halves while it still
	// does not fit); Linux: tcp_base_mss payload plus the options.
	FallbackMSS int `json:"fallback_mss"`
}

// DefaultCost is a Linux sender with tcp_mtu_probing=1 behind a black
// hole, moving 10 MiB per connection.
func DefaultCost(options int) Cost {
	return Cost{TooBig: TooBigBlackHole, Transfer: 10 << 20, Detect: LinuxDetect, FallbackMSS: LinuxBaseMSS + options}
}

// Stall is how long a black-holed sender waits, with a retransmission
// timeout of t0: the first T0 (2^k - 1), k >= 1, that reaches detect.
func Stall(t0, detect time.Duration) time.Duration {
	s := t0
	for k := 1; s < detect && k < 62; k++ {
		s = t0 * (1<<(k+1) - 1)
	}
	return s
}

// Outcome is the expected goodput of one MSS over a distribution.
type Outcome struct {
	MSS      int     `json:"mss"`
	Expected Rate    `json:"expected_goodput"`
	PFit     float64 `json:"p_fits"` // probability the MSS fits the path
	// Shortfall is how much less than the best MSS this one gets, as a
	// fraction of the best (0 for the best itself); set by Compare.
	Shortfall float64 `json:"shortfall"`
	Label     string  `json:"label,omitempty"`
}

// Expected is the expected goodput of mss over d under cost c.
func (p *Params) Expected(mss int, d Dist, c Cost) (Outcome, error) {
	if err := p.Validate(); err != nil {
		return Outcome{}, err
	}
	if err := c.check(p); err != nil {
		return Outcome{}, err
	}
	nd, err := d.Normalize()
	if err != nil {
		return Outcome{}, err
	}
	return p.expected(mss, nd, c)
}

func (c Cost) check(p *Params) error {
	if c.Transfer <= 0 {
		return fmt.Errorf("transfer %d bytes must be positive", c.Transfer)
	}
	if c.TooBig > TooBigFragment {
		return fmt.Errorf("unknown too-big behaviour %d", c.TooBig)
	}
	if c.TooBig == TooBigFragment && p.Family != encap.IPv4 {
		return fmt.Errorf("fragmentation applies to IPv4 only: IPv6 routers never fragment (RFC 8200)")
	}
	if c.TooBig == TooBigBlackHole && !c.Never {
		if c.Detect < 0 || c.Detect > time.Hour {
			return fmt.Errorf("black-hole detection time %v outside 0..1h", c.Detect)
		}
		if c.FallbackMSS <= p.Options || c.FallbackMSS > 65535 {
			return fmt.Errorf("fallback MSS %d must exceed the %d option bytes", c.FallbackMSS, p.Options)
		}
	}
	return nil
}

func (p *Params) expected(mss int, d Dist, c Cost) (Outcome, error) {
	if err := p.checkMSS(mss); err != nil {
		return Outcome{}, err
	}
	bits := float64(c.Transfer) * 8
	out := Outcome{MSS: mss}
	var sum float64
	for _, sc := range d {
		s := sc.Stack
		if s == nil {
			s = p.Stack
		}
		l, err := p.eval(mss, s, sc.PathMTU, c.TooBig == TooBigFragment)
		if err != nil {
			return Outcome{}, err
		}
		if l.Fits {
			out.PFit += sc.Prob
			sum += sc.Prob * rateOver(bits, 0, l.Goodput)
			continue
		}
		fit := p.MSSForMTU(sc.PathMTU)
		switch c.TooBig {
		case TooBigFragment:
			sum += sc.Prob * rateOver(bits, 0, l.Goodput)
		case TooBigPMTUD:
			if fit <= p.Options {
				continue // nothing fits: goodput 0
			}
			lf, err := p.eval(fit, s, sc.PathMTU, false)
			if err != nil {
				return Outcome{}, err
			}
			sum += sc.Prob * rateOver(bits, seconds(p.RTT), lf.Goodput)
		case TooBigBlackHole:
			if c.Never {
				continue
			}
			stall := seconds(Stall(p.T0(), c.Detect))
			wait, m := stall, min(c.FallbackMSS, mss)
			// Linux halves the fallback again after each further stall
			// (tcp_mtu_probing), down to tcp_mtu_probe_floor (48).
			for m+p.headers() > sc.PathMTU && m > 48 {
				wait += stall
				m = max((m-p.Options)/2+p.Options, 48)
			}
			if m+p.headers() > sc.PathMTU || m <= p.Options {
				continue
			}
			lf, err := p.eval(m, s, sc.PathMTU, false)
			if err != nil {
				return Outcome{}, err
			}
			sum += sc.Prob * rateOver(bits, wait, lf.Goodput)
		}
	}
	out.Expected = Rate(sum)
	return out, nil
}

// rateOver is the average rate of moving bits after a delay of wait seconds
// at rate g.
func rateOver(bits, wait float64, g Rate) float64 {
	if g <= 0 {
		return 0
	}
	if g.IsUnlimited() {
		if wait <= 0 {
			return math.Inf(1)
		}
		return bits / wait
	}
	return bits / (wait + bits/float64(g))
}

// Best is the MSS in lo..hi with the highest expected goodput over d (the
// smallest such MSS on a tie), with the outcome of every MSS in the range.
func (p *Params) Best(d Dist, c Cost, lo, hi int) (Outcome, []Outcome, error) {
	if err := p.Validate(); err != nil {
		return Outcome{}, nil, err
	}
	if err := c.check(p); err != nil {
		return Outcome{}, nil, err
	}
	nd, err := d.Normalize()
	if err != nil {
		return Outcome{}, nil, err
	}
	if lo > hi {
		return Outcome{}, nil, fmt.Errorf("MSS range %d..%d is empty", lo, hi)
	}
	if hi-lo > 100000 {
		return Outcome{}, nil, fmt.Errorf("MSS range %d..%d is too wide", lo, hi)
	}
	all := make([]Outcome, 0, hi-lo+1)
	best := Outcome{Expected: -1}
	for m := lo; m <= hi; m++ {
		o, err := p.expected(m, nd, c)
		if err != nil {
			return Outcome{}, nil, err
		}
		all = append(all, o)
		if o.Expected > best.Expected {
			best = o
		}
	}
	return best, all, nil
}

// Compare prices each MSS in choices against best: expected goodput and
// shortfall. Choices that are invalid for the path are skipped.
func (p *Params) Compare(best Outcome, d Dist, c Cost, choices map[string]int) ([]Outcome, error) {
	nd, err := d.Normalize()
	if err != nil {
		return nil, err
	}
	labels := make([]string, 0, len(choices))
	for k := range choices {
		labels = append(labels, k)
	}
	sort.Slice(labels, func(i, j int) bool {
		if choices[labels[i]] != choices[labels[j]] {
			return choices[labels[i]] > choices[labels[j]]
		}
		return labels[i] < labels[j]
	})
	var out []Outcome
	for _, k := range labels {
		o, err := p.expected(choices[k], nd, c)
		if err != nil {
			continue
		}
		o.Label = k
		if best.Expected > 0 {
			o.Shortfall = 1 - float64(o.Expected)/float64(best.Expected)
		}
		out = append(out, o)
	}
	return out, nil
}
