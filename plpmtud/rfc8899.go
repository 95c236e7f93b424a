package plpmtud

import "time"

func init() {
	register(Info{
		Name: "rfc8899",
		Summary: "RFC 8899 DPLPMTUD: BASE confirms Min, SEARCHING bisects with MAX_PROBES (3) tries per size, " +
			"PTB used as a search hint (§4.6.2), black hole after MAX_PROBES lost packets of PLPMTU size",
		NativeStep: 1,
		new:        newRFC8899,
	})
}

// PMTURaiseTimer is RFC 8899's PMTU_RAISE_TIMER: how long SEARCH_COMPLETE
// lasts before the search runs again to find a larger PMTU.
const PMTURaiseTimer = 600 * time.Second

// rfc8899 follows the state machine of RFC 8899 §5.2 with bisection as the
// search algorithm (the RFC leaves the algorithm open, §5.3):
//
//   - BASE: probe BASE_PLPMTU (Config.Min); acknowledged -> SEARCHING;
//     MAX_PROBES losses -> ERROR.
//   - SEARCHING: probe the midpoint of (PLPMTU, smallest failed size); a
//     size fails after MAX_PROBES consecutive losses; the interval below ΔS
//     -> SEARCH_COMPLETE.
//   - PTB (§4.6.2): ignored below Min or not below the probe it quotes;
//     below PLPMTU -> BASE (the path shrank); otherwise the reported size
//     becomes the upper bound and the next probe, confirmed like any other
//     (a PTB never raises the PLPMTU by itself).
//   - black hole (§4.3): MAX_PROBES consecutive losses of ordinary packets
//     of PLPMTU size -> BASE.
//   - SEARCH_COMPLETE: after PMTU_RAISE_TIMER, Next starts a new search
//     above the PLPMTU.
type rfc8899 struct {
	common
	step, tries int
	lo, hi      int // PLPMTU; smallest size known too big (exclusive)
	cur, lost   int
	traffic     int // consecutive lost packets of PLPMTU size
	completedAt time.Duration
}

func newRFC8899(c Config) (Strategy, error) {
	step, tries := c.step(1), c.maxProbes(3)
	// BASE, then one bisection plus the probe a PTB hint adds; allow one
	// return to BASE (a black hole or a PTB below the PLPMTU) on top.
	one := tries + (bisectBound(c.Max+1-c.Min, step)+1)*tries
	s := &rfc8899{common: newCommon(c, 2*one), step: step, tries: tries}
	s.Reset()
	return s, nil
}

func (s *rfc8899) Reset() {
	s.common.reset()
	s.toBase(s.max + 1)
	s.traffic, s.completedAt = 0, 0
}

func (s *rfc8899) toBase(hi int) {
	s.state = Base
	s.lo, s.hi = s.min, hi
	s.cur, s.lost = s.min, 0
	s.done = false
}

// pick chooses the next size in SEARCHING or completes the search.
func (s *rfc8899) pick() {
	if s.hi-s.lo <= s.step {
		s.finish()
		return
	}
	s.cur, s.lost = (s.lo+s.hi)/2, 0
}

func (s *rfc8899) Next(now time.Duration) (int, bool) {
	if s.state == SearchComplete && s.done && !s.capped && s.lo < s.max && now >= s.completedAt+PMTURaiseTimer {
		// PMTU_RAISE_TIMER expired: search again above the PLPMTU.
		s.done, s.state, s.hi = false, Searching, s.max+1
		s.sent = 0
		s.pick()
	}
	if !s.ready() {
		return 0, false
	}
	return s.send(s.cur)
}

func (s *rfc8899) OnAck(size int, now time.Duration) {
	if !s.resolve() || s.done {
		return
	}
	if s.state == Base {
		s.state = Searching
		s.pick()
		s.stamp(now)
		return
	}
	if size > s.lo && size < s.hi {
		s.lo = size
	}
	s.pick()
	s.stamp(now)
}

func (s *rfc8899) OnLoss(size int, now time.Duration) {
	if !s.resolve() || s.done {
		return
	}
	s.lost++
	if s.lost < s.tries {
		return
	}
	if s.state == Base {
		// BASE_PLPMTU not confirmed.
		s.state = Error
		s.finish()
		return
	}
	if size > s.lo && size < s.hi {
		s.hi = size
	}
	s.pick()
	s.stamp(now)
}

func (s *rfc8899) OnPTB(size, mtu int, now time.Duration) {
	if s.inflight == 0 || s.done {
		return
	}
	if !s.validPTB(size, mtu) || s.state == Base {
		// Invalid, or nothing to learn while confirming BASE (whose size
		// is Min, below any valid report): the probe is simply lost.
		s.OnLoss(size, now)
		return
	}
	s.resolve()
	switch {
	case mtu < s.lo:
		// The path no longer carries the PLPMTU.
		s.toBase(mtu + 1)
	case mtu == s.lo:
		s.hi = mtu + 1
		s.pick()
	default:
		// Use the reported size as the next probe (and the upper bound).
		s.hi = mtu + 1
		s.cur, s.lost = mtu, 0
	}
	s.stamp(now)
}

// OnTrafficLoss is the black-hole detection of RFC 8899 §4.3.
func (s *rfc8899) OnTrafficLoss(size int, now time.Duration) {
	if size < s.lo || s.state == Base || s.state == Error {
		return
	}
	s.traffic++
	if s.traffic < s.tries {
		return
	}
	s.traffic = 0
	s.toBase(s.max + 1)
	s.stamp(now)
}

func (s *rfc8899) stamp(now time.Duration) {
	if s.done {
		s.completedAt = now
	}
}

func (s *rfc8899) Estimate() int   { return s.lo }
func (s *rfc8899) Clone() Strategy { c := *s; return &c }
func (s *rfc8899) Key() any        { return *s }
