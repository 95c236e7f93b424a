package sim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/plpmtud"
)

// Path is the network a search runs on.
type Path struct {
	// Loss is the probability that a probe which fits the path is lost
	// anyway (congestion, errors): the p of the issue.
	Loss float64
	// BER adds size-dependent loss: a probe of s bytes is also lost with
	// probability 1-(1-BER)^s, as with a per-byte error rate.
	BER float64
	// ICMP is the probability that a probe too big for the path comes back
	// as a Packet Too Big reporting the path MTU; 0 is a black hole.
	ICMP float64
	// Forge is the probability that a probe's outcome is replaced by a
	// forged PTB that quotes it correctly (an on-path attacker) and reports
	// ForgeMTU.
	Forge    float64
	ForgeMTU int
	// Frag is the probability that a packet sent without DF comes back in
	// fragments (IPv4 routers fragment it, ICMP or not; 0: never, as on
	// IPv6). The driver of package probe sends one such packet of Max after
	// the first round with a lost probe, to strategies that take hints
	// (plpmtud.Hinter): the simulator does the same, counting it as a probe
	// and a round, and hints [F, F+7] for a largest fragment F.
	Frag float64
	// RTT is the round-trip time; PTO the time after which a probe counts
	// as lost (0: 3 RTTs).
	RTT, PTO time.Duration
	// ChangeAfter, if positive, changes the path MTU to ChangeTo once that
	// many probes have been resolved (the path MTU changing mid-run).
	ChangeAfter int
	ChangeTo    int
}

// DefaultRTT is the RTT used when none is given.
const DefaultRTT = 100 * time.Millisecond

func (p Path) pto() time.Duration {
	if p.PTO > 0 {
		return p.PTO
	}
	return 3 * p.rtt()
}

func (p Path) rtt() time.Duration {
	if p.RTT > 0 {
		return p.RTT
	}
	return DefaultRTT
}

func prob(name string, v float64) error {
	if !(v >= 0 && v <= 1) {
		return encap.Paramf(name, "%s %g out of range [0, 1]", name, v)
	}
	return nil
}

func (p Path) validate() error {
	for _, e := range []error{prob("loss", p.Loss), prob("ber", p.BER), prob("icmp", p.ICMP), prob("forge", p.Forge), prob("frag", p.Frag)} {
		if e != nil {
			return e
		}
	}
	if p.Loss >= 1 {
		return encap.Paramf("loss", "loss 1 loses every probe: nothing to search")
	}
	if p.RTT < 0 {
		return encap.Paramf("rtt", "rtt %v must not be negative", p.RTT)
	}
	if p.PTO < 0 {
		return encap.Paramf("pto", "pto %v must not be negative", p.PTO)
	}
	if p.ChangeAfter < 0 || p.ChangeAfter > maxField {
		return encap.Paramf("change-after", "change-after %d out of range [0, %d]", p.ChangeAfter, maxField)
	}
	if p.ChangeAfter > 0 && (p.ChangeTo < plpmtud.MinSize || p.ChangeTo > plpmtud.MaxSize) {
		return encap.Paramf("change-to", "change-to %d out of range [%d, %d]", p.ChangeTo, plpmtud.MinSize, plpmtud.MaxSize)
	}
	if p.Forge > 0 && (p.ForgeMTU < 0 || p.ForgeMTU > plpmtud.MaxSize) {
		return encap.Paramf("forge-mtu", "forge-mtu %d out of range [0, %d]", p.ForgeMTU, plpmtud.MaxSize)
	}
	return nil
}

// lossAt is the probability that a probe of size s that fits is lost.
func (p Path) lossAt(s int) float64 {
	if p.BER == 0 {
		return p.Loss
	}
	return 1 - (1-p.Loss)*math.Pow(1-p.BER, float64(s))
}

// Point is one possible path MTU and its probability.
type Point struct {
	PMTU int     `json:"pmtu"`
	P    float64 `json:"p"`
}

// Dist is a distribution of the true path MTU.
type Dist []Point

// Fixed is the distribution of a single known path MTU.
func Fixed(pmtu int) Dist { return Dist{{pmtu, 1}} }

// Uniform spreads the path MTU evenly over [lo, hi].
func Uniform(lo, hi int) Dist {
	d := make(Dist, 0, hi-lo+1)
	for m := lo; m <= hi; m++ {
		d = append(d, Point{m, 1 / float64(hi-lo+1)})
	}
	return d
}

// normalize merges equal MTUs, sorts and scales the weights to sum to 1.
func (d Dist) normalize() (Dist, error) {
	w := map[int]float64{}
	total := 0.0
	for _, p := range d {
		if p.PMTU < plpmtud.MinSize || p.PMTU > plpmtud.MaxSize {
			return nil, fmt.Errorf("path MTU %d out of range [%d, %d]", p.PMTU, plpmtud.MinSize, plpmtud.MaxSize)
		}
		if !(p.P >= 0) || math.IsInf(p.P, 0) {
			return nil, fmt.Errorf("path MTU %d has weight %g", p.PMTU, p.P)
		}
		w[p.PMTU] += p.P
		total += p.P
	}
	if total == 0 {
		return nil, errors.New("empty path MTU distribution")
	}
	out := make(Dist, 0, len(w))
	for m, x := range w {
		if x > 0 {
			out = append(out, Point{m, x / total})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PMTU < out[j].PMTU })
	return out, nil
}

// Scenario is one simulation: a strategy and its configuration on a path
// whose MTU is drawn from PMTU.
type Scenario struct {
	Strategy string
	Config   plpmtud.Config
	Path     Path
	PMTU     Dist
}

// prepared is a validated scenario with everything the engines need.
type prepared struct {
	Scenario
	info   plpmtud.Info
	rtt    time.Duration
	pto    time.Duration
	gap    time.Duration // least time between rounds (the stack's pacing)
	dist   Dist
	newOne func() plpmtud.Strategy
}

func prepare(sc Scenario) (*prepared, error) {
	info, ok := plpmtud.Lookup(sc.Strategy)
	if !ok {
		return nil, fmt.Errorf("unknown strategy %q (known: %s)", sc.Strategy, strings.Join(plpmtud.Names(), ", "))
	}
	if _, err := plpmtud.New(sc.Strategy, sc.Config); err != nil {
		return nil, err
	}
	if err := sc.Path.validate(); err != nil {
		return nil, err
	}
	if sc.Path.Forge > 0 && sc.Path.ForgeMTU == 0 {
		sc.Path.ForgeMTU = sc.Config.Min
	}
	d, err := sc.PMTU.normalize()
	if err != nil {
		return nil, err
	}
	p := &prepared{Scenario: sc, info: info, dist: d, rtt: sc.Path.rtt(), pto: sc.Path.pto()}
	p.gap = time.Duration(info.PacingRTTs * float64(p.rtt))
	p.newOne = func() plpmtud.Strategy {
		s, err := plpmtud.New(sc.Strategy, sc.Config)
		if err != nil {
			panic(err) // validated above
		}
		return s
	}
	return p, nil
}

// truth is the MTU a search is scored against: the path MTU, or Max when
// the path carries more than the search may probe.
func (p *prepared) truth(pmtu int) int { return min(pmtu, p.Config.Max) }

// pmtuAfter is the path MTU once n probes have been resolved.
func (p *prepared) pmtuAfter(initial, n int) int {
	if p.Path.ChangeAfter > 0 && n >= p.Path.ChangeAfter {
		return p.Path.ChangeTo
	}
	return initial
}

// roundTime is the duration of a round: an RTT when every probe was
// answered, the probe timeout when one was lost, never less than the
// stack's pacing.
func (p *prepared) roundTime(slow bool) time.Duration {
	t := p.rtt
	if slow {
		t = p.pto
	}
	return max(t, p.gap)
}
