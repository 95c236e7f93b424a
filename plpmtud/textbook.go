package plpmtud

import "time"

// The seed article's three searches, done right: linear (RFC 4821's
// fixed step ΔS), binary, and hybrid (binary, then linear). They learn
// from acknowledgements and losses only; a PTB counts as a loss of the
// probe it quotes.

func init() {
	register(Info{
		Name:       "linear",
		Summary:    "RFC 4821 linear search: confirm Min, then Min+ΔS, Min+2ΔS, ... until a size is lost MaxProbes times (default ΔS 32, 1 try)",
		NativeStep: 32,
		new:        newLinear,
	})
	register(Info{
		Name:       "binary",
		Summary:    "bisection between Min (assumed to work) and Max until the interval is narrower than ΔS (default 1: exact); MaxProbes tries per size (default 1)",
		NativeStep: 1,
		new:        newBinary,
	})
	register(Info{
		Name:       "hybrid",
		Summary:    "the seed's hybrid: HybridRounds (default 3) binary rounds, then linear steps of ΔS (default 32) upward",
		NativeStep: 32,
		new:        newHybrid,
	})
}

// linear probes Min, Min+ΔS, Min+2ΔS, ... (the last step clipped to Max)
// and stops at the first size lost MaxProbes times. The seed's example:
// true MTU 1420, ΔS 64, from 1200 gives 1200, 1264, 1328, 1392, 1456 (lost)
// and the answer 1392.
type linear struct {
	common
	step, tries int
	lo          int // largest acknowledged size
	cur         int // size being probed
	lost        int // losses of cur
}

func newLinear(c Config) (Strategy, error) {
	step, tries := c.step(32), c.maxProbes(1)
	sizes := (c.Max-c.Min+step-1)/step + 1
	s := &linear{common: newCommon(c, sizes*tries), step: step, tries: tries}
	s.Reset()
	return s, nil
}

func (s *linear) Reset() {
	s.common.reset()
	s.lo, s.cur, s.lost = s.min, s.min, 0
	s.state = Base
}

func (s *linear) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.cur)
}

func (s *linear) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	if size > s.lo {
		s.lo = size
	}
	s.state, s.lost = Searching, 0
	if s.lo >= s.max {
		s.finish()
		return
	}
	s.cur = min(s.lo+s.step, s.max)
}

func (s *linear) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.lost++
	if s.lost < s.tries {
		return
	}
	if s.state == Base {
		s.state = Error
	}
	s.finish()
}

func (s *linear) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }
func (s *linear) Estimate() int                        { return s.lo }
func (s *linear) Clone() Strategy                      { c := *s; return &c }
func (s *linear) Key() any                             { return *s }

// binary keeps lo (largest size known to work; Min at first) and hi (the
// smallest size known not to, exclusive bound; Max+1 at first) and probes
// (lo+hi)/2 until hi-lo <= ΔS. Over [1200,1500] its first probe is 1350.
// With ΔS 1 it finds the exact PMTU in at most ceil(log2(Max-Min+1))
// probes when nothing is lost, and a single lost probe at x caps the
// answer at x-1: the seed's "1350 lost, so the PMTU is at most 1275" is
// wrong twice, since the bound becomes 1349 and 1275 is only the next
// probe.
type binary struct {
	common
	step, tries int
	lo, hi      int
	cur, lost   int
	rounds      int // sizes settled (hybrid counts them)
}

func newBinaryCore(c Config, step, tries int) binary {
	bound := bisectBound(c.Max+1-c.Min, step) * tries
	b := binary{common: newCommon(c, bound), step: step, tries: tries}
	b.Reset()
	return b
}

func newBinary(c Config) (Strategy, error) {
	b := newBinaryCore(c, c.step(1), c.maxProbes(1))
	return &b, nil
}

func (s *binary) Reset() {
	s.common.reset()
	s.lo, s.hi, s.lost, s.rounds = s.min, s.max+1, 0, 0
	s.state = Searching
	s.pick()
}

// pick chooses the next midpoint or finishes.
func (s *binary) pick() {
	if s.hi-s.lo <= s.step {
		s.finish()
		return
	}
	s.cur, s.lost = (s.lo+s.hi)/2, 0
}

func (s *binary) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.cur)
}

func (s *binary) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	if size > s.lo && size < s.hi {
		s.lo = size
	}
	s.rounds++
	s.pick()
}

func (s *binary) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.lost++
	if s.lost < s.tries {
		return
	}
	if size > s.lo && size < s.hi {
		s.hi = size
	}
	s.rounds++
	s.pick()
}

func (s *binary) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }
func (s *binary) Estimate() int                        { return s.lo }
func (s *binary) Clone() Strategy                      { c := *s; return &c }
func (s *binary) Key() any                             { return *s }

// hybrid bisects for HybridRounds settled sizes, then walks up from the
// largest working size in steps of ΔS until a size is lost MaxProbes
// times or the next step reaches the known failure. The seed suggests 3
// binary rounds then linear.
type hybrid struct {
	binary
	binRounds int
	linear    bool
}

func newHybrid(c Config) (Strategy, error) {
	step, tries := c.step(32), c.maxProbes(1)
	r := c.HybridRounds
	if r == 0 {
		r = 3
	}
	h := &hybrid{binRounds: r}
	h.binary = newBinaryCore(c, 1, tries)
	h.binary.step = step
	// Worst case: r bisection rounds leave an interval of n after r
	// ceil-halvings; linear then needs at most ceil(n/ΔS) sizes.
	n := c.Max + 1 - c.Min
	for i := 0; i < r && n > 1; i++ {
		n = (n + 1) / 2
	}
	h.bound = (r + (n+step-1)/step) * tries
	h.Reset()
	return h, nil
}

func (s *hybrid) Reset() {
	s.linear = false
	s.binary.Reset()
	s.hpick()
}

// hpick overrides the binary choice once the binary rounds are spent.
func (s *hybrid) hpick() {
	if s.done {
		return
	}
	if s.rounds >= s.binRounds {
		s.linear = true
	}
	if !s.linear {
		return
	}
	next := s.lo + s.step
	if next >= s.hi {
		s.finish()
		return
	}
	s.cur, s.lost = next, 0
}

func (s *hybrid) OnAck(size int, now time.Duration) {
	s.binary.OnAck(size, now)
	s.hpick()
}

func (s *hybrid) OnLoss(size int, now time.Duration) {
	if s.inflight == 0 {
		return
	}
	if s.linear {
		s.resolve()
		s.lost++
		if s.lost >= s.tries {
			s.hi = min(s.hi, size)
			s.finish()
		}
		return
	}
	s.binary.OnLoss(size, now)
	s.hpick()
}

func (s *hybrid) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }
func (s *hybrid) Clone() Strategy                      { c := *s; return &c }
func (s *hybrid) Key() any                             { return *s }
