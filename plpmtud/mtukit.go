package plpmtud

import (
	"math"
	"time"
)

func init() {
	register(Info{
		Name: "mtukit",
		Summary: "mtukit's search: Bayesian bisection over a prior of common MTU plateaus (from package encap), " +
			"a loss only discounts the sizes above it, a validated PTB's MTU is probed next and bounds the search, " +
			"stops when P(PMTU >= estimate+ΔS) < ε; optional parallel probes",
		NativeStep: 1,
		new:        newMtukit,
	})
}

// Defaults of the mtukit strategy; TestMtukitDefaults and the package
// documentation show how they were chosen with the simulator.
const (
	DefaultLossPrior  = 0.05
	DefaultEpsilon    = 0.01
	DefaultBackground = 0.25
	// ptbBoost is the likelihood ratio of a PTB reporting m: an honest
	// router reports the PMTU exactly, a forger rarely matches it.
	ptbBoost = 64
	// hintBoost is the likelihood ratio of a Hint range: large enough that
	// a hint of 8 sizes holds most of the mass (fragment sizes name the
	// MTU of the path they crossed to 8 bytes), small enough that plateaus
	// outside keep some.
	hintBoost = 1024
	// lossCap is the number of distinct lost sizes remembered: more than a
	// one-at-a-time search can send (its budget is at most 3*16+8 = 56).
	lossCap = 56
	// splitTarget is the share of the posterior mass a single probe leaves
	// above it: the median. The tuning grid in the sim tests tried 0.4 and
	// 0.6; both cost more probes.
	splitTarget = 0.5
	hintSlack   = 1
)

// mtukit searches for the path MTU v with a posterior over v:
//
//   - the prior puts DefaultBackground of the mass uniformly on [Min, Max]
//     and the rest on the plateaus (DefaultPlateaus: Ethernet, PPPoE, the
//     tunnel MTUs that package encap computes for common stacks...);
//   - an acknowledged probe of size s proves v >= s (the estimate lo);
//   - a lost probe of size s does not prove v < s: it multiplies the
//     weight of every v >= s by LossPrior, the chance that a probe which
//     fits is lost anyway, so a random loss is outvoted later while a size
//     that is really too big keeps losing;
//   - a PTB reporting m for a probe is a loss of that probe and of a probe
//     of m+1, and multiplies the weight of v = m by 64; once PTBConfirm
//     valid PTBs (1 by default) agree on m, m is an upper bound and the
//     next probe, so an honest PTB ends the search with one acknowledged
//     probe. A PTB never raises the estimate; an acknowledged probe above
//     m clears the bound (the PTB lied). The stopping rule below counts
//     only lost probes and the bound.
//
// Each round sends the probe that splits the posterior mass in half (or, in
// parallel mode, the m quantiles j/(m+1)), which probes a likely plateau
// directly, probes lower after a loss, and re-tests a lost size only when
// the sizes below it are settled. It stops when the posterior probability
// that v >= lo+ΔS falls below Epsilon. The estimate is always an
// acknowledged size, so without PTB forgery it can never overshoot.
type mtukit struct {
	common
	pr        *prior
	pw        *[64]float64 // powers of LossPrior
	step, par int
	tries     int
	eps       float64
	lo        int
	loss      [lossCap]lossRec // lost sizes above lo, ascending
	nloss     int
	ptb       int // PTB-reported size being boosted; 0 = none
	ptbN      int // valid PTBs that reported ptb
	ptbTrust  int // PTBs that must agree before ptb bounds the search
	hi        int // upper bound set by trusted PTBs; 0 = none
	hiTried   bool
	hlo, hhi  int // Hint range; hlo = 0: none
	traffic   int
	queue     [8]int // the rest of the current round
	nq        int
	// The probe budget (see budgeted): at most budget probes from start,
	// the probes sent when the current search began, when none is lost at
	// random; need is the number of lost probes just above the estimate
	// that stop the search whatever the prior (LossPrior^need <= Epsilon).
	budget, need, start int
}

// lossRec is a lost size: n losses in all, real of them lost probes (the
// rest are what PTBs imply).
type lossRec struct{ size, n, real int32 }

func newMtukit(c Config) (Strategy, error) {
	plateaus := c.Plateaus
	if plateaus == nil {
		plateaus = DefaultPlateaus()
	}
	lp := c.LossPrior
	if lp == 0 {
		lp = DefaultLossPrior
	}
	eps := c.Epsilon
	if eps == 0 {
		eps = DefaultEpsilon
	}
	bg := c.Background
	if bg == 0 {
		bg = DefaultBackground
	}
	par := max(c.Parallel, 1)
	pw := new([64]float64)
	for i := range pw {
		pw[i] = math.Pow(lp, float64(i))
	}
	rounds := 3*log2ceil(c.Max-c.Min+1) + 8
	need := 1
	for need < len(pw) && pw[need] > eps {
		need++
	}
	step := c.step(1)
	s := &mtukit{
		common:   newCommon(c, rounds*par),
		budget:   bisectBound(c.Max-c.Min+1, step) + need,
		need:     need,
		pr:       newPrior(c.Min, c.Max, plateaus, bg),
		pw:       pw,
		step:     step,
		par:      par,
		tries:    c.maxProbes(3),
		eps:      eps,
		ptbTrust: max(c.PTBConfirm, 1),
	}
	s.Reset()
	return s, nil
}

func (s *mtukit) Reset() {
	s.common.reset()
	s.lo, s.nloss, s.ptb, s.ptbN, s.hi, s.traffic, s.nq = s.min, 0, 0, 0, 0, 0, 0
	s.hiTried, s.hlo, s.hhi, s.start = false, 0, 0, 0
	s.loss = [lossCap]lossRec{}
	s.queue = [8]int{}
	s.state = Searching
	s.settle()
}

// top is the largest size v can still be: Max, or the MTU of trusted PTBs.
func (s *mtukit) top() int {
	if s.hi != 0 {
		return min(s.hi, s.max)
	}
	return s.max
}

// factor is the likelihood weight of the segment after i lost sizes.
func (s *mtukit) pow(k int) float64 {
	if k < len(s.pw) {
		return s.pw[k]
	}
	return 0
}

// mass is the posterior weight (unnormalised) of v in [a, b), with the
// PTB hints (implied losses and the boost).
func (s *mtukit) mass(a, b int) float64 { return s.massOf(a, b, true) }

// massOf is mass with or without the hints (PTBs' implied losses and
// boost, and the Hint range).
func (s *mtukit) massOf(a, b int, hints bool) float64 {
	total := s.base(a, b, hints)
	if hints {
		if s.ptb >= max(a, s.lo) && s.ptb < min(b, s.top()+1) {
			total += (ptbBoost - 1) * s.weightAt(s.ptb)
		}
		if s.hlo != 0 {
			total += (hintBoost - 1) * s.base(max(a, s.hlo), min(b, s.hhi+1), true)
		}
	}
	return total
}

// base is the posterior weight of v in [a, b) from the prior and the
// losses (with the losses PTBs imply when hints is set).
func (s *mtukit) base(a, b int, hints bool) float64 {
	a = max(a, s.lo)
	b = min(b, s.top()+1)
	if a >= b {
		return 0
	}
	total, k, start := 0.0, 0, s.lo
	for i := 0; i <= s.nloss; i++ {
		end := s.max + 1
		if i < s.nloss {
			end = int(s.loss[i].size)
		}
		if x, y := max(a, start), min(b, end); x < y {
			total += s.pow(k) * (s.pr.below(y) - s.pr.below(x))
		}
		if end >= b || i == s.nloss {
			break
		}
		if hints {
			k += int(s.loss[i].n)
		} else {
			k += int(s.loss[i].real)
		}
		start = end
	}
	return total
}

// weightAt is the posterior weight of v = x without the PTB boost.
func (s *mtukit) weightAt(x int) float64 {
	k := 0
	for i := 0; i < s.nloss && int(s.loss[i].size) <= x; i++ {
		k += int(s.loss[i].n)
	}
	return s.pow(k) * s.pr.at(x)
}

// quantile is the size x in (lo, max] whose mass above, G(x) = mass(x,
// max+1), is closest to target.
func (s *mtukit) quantile(target float64) int {
	top := s.top()
	lo, hi := s.lo+1, top+1 // smallest x with G(x) <= target lies in [lo, hi]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.mass(m, top+1) <= target {
			hi = m
		} else {
			lo = m + 1
		}
	}
	x := lo
	if x > top {
		return top
	}
	if x-1 > s.lo && s.mass(x-1, top+1)-target < target-s.mass(x, top+1) {
		x--
	}
	return x
}

// settle decides, between rounds, whether to stop and which probes to
// send next.
func (s *mtukit) settle() {
	if s.done || s.inflight > 0 || s.nq > 0 {
		return
	}
	if s.lo+s.step > s.top() {
		s.finish()
		return
	}
	// Stop only after a real probe in (lo, lo+ΔS] was lost, and then when
	// the alternative "v >= lo+ΔS" is unlikely given the prior, or when,
	// whatever the prior, its most favourable case v = lo+ΔS must call
	// every lost probe in (lo, lo+ΔS] random: p̂^n <= ε (a likelihood
	// ratio). PTBs that are not trusted yet (fewer than PTBConfirm agree)
	// steer the probes but never count here; trusted ones act through
	// top(), above.
	n := 0
	for i := 0; i < s.nloss && int(s.loss[i].size) <= s.lo+s.step; i++ {
		n += int(s.loss[i].real)
	}
	if n > 0 {
		w := s.massOf(s.lo, s.max+1, false)
		if s.pow(n) <= s.eps || s.massOf(s.lo+s.step, s.max+1, false) <= s.eps*w {
			s.finish()
			return
		}
	}
	// A trusted PTB names the size to try next (RFC 8899 §4.6.2): an
	// honest router reports the next hop's MTU exactly. If that probe is
	// lost too, a later hop is smaller and the bisection goes on below.
	n, probeHi := s.par, s.hi > s.lo && !s.hiTried
	if probeHi {
		s.hiTried = true
		n--
	}
	w := s.mass(s.lo, s.max+1)
	// The n quantiles of the posterior above lo, ascending.
	for j := 1; j <= n; j++ {
		x := s.quantile(w * splitTarget * float64(n+1-j) * 2 / float64(n+1))
		if s.par == 1 {
			x = s.budgeted(x)
		}
		if (s.nq > 0 && x <= s.queue[s.nq-1]) || (probeHi && x >= s.hi) {
			continue
		}
		s.queue[s.nq] = x
		s.nq++
	}
	if probeHi {
		s.queue[s.nq] = s.hi
		s.nq++
	}
	// Fewer distinct sizes than probes: repeat the smallest, whose
	// repetition is the cheapest evidence.
	for i := s.nq; i < s.par; i++ {
		s.queue[i] = s.queue[0]
	}
	s.nq = s.par
}

// budgeted keeps the probe budget: without random loss the search ends
// within budget = bisectBound(Max-Min+1, ΔS) + need probes
// (ceil(log2 N) + 2 with the defaults), whatever the path MTU, the prior
// and the hints. A bisection isolates the path MTU in bisectBound probes
// and then needs need-1 more losses just above it; the prior's choice x is
// kept when, after it, that worst case still fits in the probes left, and
// otherwise moved to the nearest size that keeps it. Sizes are never
// taken in a budget that random loss has already spent (an acknowledged
// probe above a lost one): the posterior's choice stands then. It costs
// nothing on the plateaus the prior favours: N is rarely a power of two,
// so early probes have room to lean on the prior.
func (s *mtukit) budgeted(x int) int {
	left := s.budget - (s.sent - s.start)
	if y, ok := s.cutHint(x, left); ok {
		return y
	}
	if s.cost(x) <= left {
		return x
	}
	h := s.upper()
	if d := left - s.need; d >= 0 {
		k := s.max + 1 // the largest interval that bisectBound shrinks in d probes
		if d < 20 {
			k = min(k, s.step<<d)
		}
		a, b := max(s.lo+1, h-k), min(h-1, s.lo+k)
		if a <= b {
			if y := min(max(x, a), b); s.cost(y) <= left {
				return y
			}
		}
	}
	if h <= s.top() && s.cost(h) <= left {
		return h // the lost size just above the estimate, again
	}
	return x
}

// cutHint: when the posterior's choice x falls in the hint [hlo, hhi]
// and leaves less than hintSlack probes to spare, the hint is cut out of
// the interval instead, one edge per probe: first the edge with more
// sizes beyond it (hlo, acknowledged if the hint is right, or hhi+1, lost
// if it is right), while the budget still allows it; the median then
// works inside the hint. The median inside the hint would leave a wide
// interval on either side, which the budget can only bisect.
func (s *mtukit) cutHint(x, left int) (int, bool) {
	h := s.upper()
	if s.hlo == 0 || x < s.hlo || x > s.hhi || left-s.cost(x) >= hintSlack {
		return 0, false
	}
	below, above := 0, 0 // sizes beyond each edge
	if s.hlo > s.lo {
		below = s.hlo - s.lo
	}
	if s.hhi+1 < h {
		above = h - s.hhi - 1
	}
	edges := [2]int{s.hlo, s.hhi + 1}
	if above > below {
		edges[0], edges[1] = edges[1], edges[0]
	}
	for _, e := range edges {
		if e > s.lo && e < h && s.cost(e) <= left {
			return e, true
		}
	}
	return 0, false
}

// upper is the smallest size above the estimate that a probe lost (not
// only a PTB's implied loss), or top()+1: without random loss, the path
// MTU is in [lo, upper).
func (s *mtukit) upper() int {
	for i := 0; i < s.nloss; i++ {
		if s.loss[i].real > 0 {
			return min(int(s.loss[i].size), s.top()+1)
		}
	}
	return s.top() + 1
}

// lostIn counts the probes lost at sizes in (a, b], with one more at x
// when x is in it (a loss being weighed).
func (s *mtukit) lostIn(a, b, x int) int {
	n := 0
	for i := 0; i < s.nloss && int(s.loss[i].size) <= b; i++ {
		if int(s.loss[i].size) > a {
			n += int(s.loss[i].real)
		}
	}
	if x > a && x <= b {
		n++
	}
	return n
}

// worst is the most probes the search needs, without random loss, from an
// estimate lo with the path MTU below h (x: a loss being weighed, or 0):
// none once lo+ΔS is past the top; the losses still missing when a lost
// size lies within ΔS; otherwise a bisection down to ΔS and need-1 more.
func (s *mtukit) worst(lo, h, x int) int {
	if lo+s.step > s.top() {
		return 0
	}
	if h-lo <= s.step {
		return max(0, s.need-s.lostIn(lo, lo+s.step, x))
	}
	return bisectBound(h-lo, s.step) + s.need - 1
}

// cost is the most probes the search needs, without random loss, if it
// sends x now: x itself, then the worse of its two outcomes (only the
// loss when x is at or above a lost size).
func (s *mtukit) cost(x int) int {
	h := s.upper()
	c := s.worst(s.lo, min(h, x), x)
	if x < h {
		c = max(c, s.worst(x, h, 0))
	}
	return 1 + c
}

func (s *mtukit) Next(time.Duration) (int, bool) {
	if s.done || s.nq == 0 {
		return 0, false
	}
	if s.sent >= s.bound {
		s.nq = 0
		if s.inflight == 0 {
			s.finish()
			s.capped = true
		}
		return 0, false
	}
	// Hand out the round from the top, so the largest probe goes first.
	s.nq--
	size := s.queue[s.nq]
	return s.send(size)
}

func (s *mtukit) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	if size > s.lo {
		s.lo = size
		j := 0
		for j < s.nloss && int(s.loss[j].size) <= size {
			j++
		}
		copy(s.loss[:], s.loss[j:s.nloss])
		for i := s.nloss - j; i < s.nloss; i++ {
			s.loss[i] = lossRec{}
		}
		s.nloss -= j
		if s.ptb != 0 && s.ptb < s.lo {
			s.ptb, s.ptbN = 0, 0
		}
		if s.hi != 0 && s.hi < s.lo {
			s.hi = 0 // a PTB claimed less than the path carries
		}
	}
	s.settle()
}

func (s *mtukit) addLoss(size, n, real int) {
	if size <= s.lo {
		return // a random loss: the path carries this size
	}
	i := 0
	for i < s.nloss && int(s.loss[i].size) < size {
		i++
	}
	if i < s.nloss && int(s.loss[i].size) == size {
		s.loss[i].n += int32(n)
		s.loss[i].real += int32(real)
		return
	}
	if s.nloss == lossCap {
		if i == lossCap {
			return // larger than every remembered size: least useful
		}
		s.nloss-- // forget the largest
	}
	copy(s.loss[i+1:s.nloss+1], s.loss[i:s.nloss])
	s.loss[i] = lossRec{int32(size), int32(n), int32(real)}
	s.nloss++
}

func (s *mtukit) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.addLoss(size, 1, 1)
	s.settle()
}

func (s *mtukit) OnPTB(size, mtu int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.addLoss(size, 1, 1)
	if s.validPTB(size, mtu) && mtu >= s.lo {
		// The router says mtu+1 does not fit: as much evidence as a lost
		// probe of that size, and mtu itself becomes the likely answer.
		s.addLoss(mtu+1, 1, 0)
		switch {
		case mtu == s.ptb:
			s.ptbN++
		case s.ptb == 0 || mtu < s.ptb:
			s.ptb, s.ptbN = mtu, 1
		}
		// Enough PTBs agree (one by default, as RFC 8899 §4.6.2 allows for
		// a validated PTB): mtu is an upper bound, so the next probe is mtu
		// itself and its acknowledgement ends the search.
		if s.ptb == mtu && s.ptbN >= s.ptbTrust && (s.hi == 0 || mtu < s.hi) {
			s.hi, s.hiTried = mtu, false
		}
	}
	s.settle()
}

// OnTrafficLoss: MaxProbes lost packets of the estimate's size mean the
// path shrank below it (RFC 8899 §4.3): search again from Min, counting
// the estimate as lost that many times.
func (s *mtukit) OnTrafficLoss(size int, _ time.Duration) {
	if size < s.lo || s.lo == s.min {
		return
	}
	s.traffic++
	if s.traffic < s.tries {
		return
	}
	old := s.lo
	s.lo, s.nloss, s.ptb, s.ptbN, s.hi, s.traffic = s.min, 0, 0, 0, 0, 0
	s.hiTried, s.hlo, s.hhi = false, 0, 0
	s.loss = [lossCap]lossRec{}
	s.addLoss(old, s.tries, s.tries)
	s.done, s.state, s.nq, s.start = false, Searching, 0, s.sent
	s.settle()
}

// Hint boosts the sizes in [lo, hi] (see Hinter) and replans the round
// that is not yet sent.
func (s *mtukit) Hint(lo, hi int) {
	lo, hi = max(lo, s.min), min(hi, s.max)
	if lo > hi || s.done {
		return
	}
	s.hlo, s.hhi = lo, hi
	s.nq = 0
	s.settle()
}

func (s *mtukit) Estimate() int   { return s.lo }
func (s *mtukit) Clone() Strategy { c := *s; return &c }
func (s *mtukit) Key() any        { return *s }
