package plpmtud

import "time"

func init() {
	register(Info{
		Name: "freebsd-sctp", Model: true, NativeStep: 4,
		Summary: "model of FreeBSD SCTP PLPMTUD OptBinary (netinet/sctp_plpmtud.c): BASE, Max first, then bisection on a 4-byte grid that probes below an expired size before repeating it; 3 tries",
		new:     newFreeBSD,
	})
}

// freeBSD models the OptBinary search of FreeBSD's SCTP PLPMTUD
// (netinet/sctp_plpmtud.c, sctp_plpmtud_search_optbinary_get_next_candidate
// and the SEARCH handlers). BASE probes max(min, base) (Min) up to 3 times.
// SEARCH first probes max_pmtu (optimistic); then the next candidate is
// ceil((max-min)/8)*4 + min, with min the current PMTU and max the least of
// max_pmtu, smallest_failed-4 and smallest_expired: after a probe expires
// the search goes below it, and repeats it (up to plpmtud_max_probes, 3)
// only when nothing smaller is left. When the candidate equals the PMTU the
// search is complete. A PTB (rounded down to 4) below the PMTU returns to
// BASE, equal to it completes, and between them becomes max_pmtu and the
// next probe.
type freeBSD struct {
	common
	maxP            int // max_pmtu, a multiple of 4
	mtu             int
	expired, failed int // smallest_expired, smallest_failed; freeBSDInf = none
	probes          [freeBSDProbeCap]fbProbe
	nprobes         int
	count           int // BASE probe count
	cur             int
}

type fbProbe struct{ size, count int }

const (
	freeBSDStep      = 4
	freeBSDMaxProbes = 3
	freeBSDInf       = 65536 // SCTP_PLPMTUD_MAX_IP_SIZE + 1: no size yet
	freeBSDProbeCap  = 24
)

func newFreeBSD(c Config) (Strategy, error) {
	// BASE, Max, then one bisection on the 4-byte grid; a size may be
	// probed 3 times and each expiry may cost one extra smaller probe.
	n := bisectBound((c.Max-c.Min)/freeBSDStep+1, 1)
	one := freeBSDMaxProbes*(2+n) + 2*n
	s := &freeBSD{common: newCommon(c, 2*one)}
	s.Reset()
	return s, nil
}

func (s *freeBSD) Reset() {
	s.common.reset()
	s.toBase()
}

func (s *freeBSD) toBase() {
	s.state = Base
	s.maxP = s.max &^ 3
	s.mtu, s.cur, s.count = s.min, s.min, 0
	s.expired, s.failed = freeBSDInf, freeBSDInf
	s.nprobes = 0
	s.done = false
}

func (s *freeBSD) candidate() int {
	if s.mtu == s.min && s.expired == freeBSDInf && s.nprobes == 0 {
		return s.maxP // start optimistic
	}
	lo, hi := s.mtu, s.maxP
	hi = min(hi, s.failed-freeBSDStep, s.expired)
	if hi <= lo {
		return 0
	}
	next := (hi-lo+2*freeBSDStep-1)/(2*freeBSDStep)*freeBSDStep + lo
	// FreeBSD's sizes are multiples of 4 (min and base are), so next never
	// passes hi there; from an unaligned Min it could.
	next = min(next, hi)
	if next == s.mtu {
		return 0
	}
	return next
}

// sendNext picks the next candidate or completes the search.
func (s *freeBSD) sendNext() {
	c := s.candidate()
	if c <= s.mtu {
		s.finish()
		return
	}
	s.cur = c
}

func (s *freeBSD) addProbe(size int) {
	for i := 0; i < s.nprobes; i++ {
		if s.probes[i].size == size {
			s.probes[i].count++
			return
		}
	}
	if s.nprobes < len(s.probes) {
		s.probes[s.nprobes] = fbProbe{size, 1}
		s.nprobes++
	}
}

func (s *freeBSD) countOf(size int) int {
	for i := 0; i < s.nprobes; i++ {
		if s.probes[i].size == size {
			return s.probes[i].count
		}
	}
	return 0
}

// removeProbes drops the probes for which drop is true.
func (s *freeBSD) removeProbes(drop func(int) bool) {
	j := 0
	for i := 0; i < s.nprobes; i++ {
		if !drop(s.probes[i].size) {
			s.probes[j] = s.probes[i]
			j++
		}
	}
	for i := j; i < s.nprobes; i++ {
		s.probes[i] = fbProbe{}
	}
	s.nprobes = j
}

func (s *freeBSD) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	if s.state == Searching {
		s.addProbe(s.cur)
	} else {
		s.count++
	}
	return s.send(s.cur)
}

func (s *freeBSD) OnAck(size int, _ time.Duration) {
	if !s.resolve() || s.done {
		return
	}
	switch s.state {
	case Base:
		if size >= s.maxP {
			s.mtu = size
			s.finish()
			return
		}
		s.state, s.mtu = Searching, size
		s.expired, s.failed, s.nprobes = freeBSDInf, freeBSDInf, 0
		s.sendNext()
	case Searching:
		if size < s.mtu {
			return
		}
		s.mtu = size
		if s.mtu >= s.maxP {
			s.finish()
			return
		}
		s.removeProbes(func(p int) bool { return p <= size })
		if size >= s.expired {
			s.expired = freeBSDInf
			for i := 0; i < s.nprobes; i++ {
				s.expired = min(s.expired, s.probes[i].size)
			}
		}
		s.sendNext()
	}
}

func (s *freeBSD) OnLoss(size int, _ time.Duration) {
	if !s.resolve() || s.done {
		return
	}
	switch s.state {
	case Base:
		if s.count >= freeBSDMaxProbes {
			s.state = Error
			s.finish()
		}
	case Searching:
		s.expired = size
		if s.countOf(size) >= freeBSDMaxProbes {
			s.failed = size
			s.removeProbes(func(p int) bool { return p >= size })
		}
		s.sendNext()
	}
}

func (s *freeBSD) OnPTB(size, mtu int, now time.Duration) {
	if s.inflight == 0 || s.done {
		return
	}
	if mtu < s.min || mtu > s.maxP || s.state != Searching {
		s.OnLoss(size, now)
		return
	}
	mtu &^= 3
	larger := false
	for i := 0; i < s.nprobes; i++ {
		larger = larger || s.probes[i].size > mtu
	}
	switch {
	case mtu < s.mtu:
		s.resolve()
		s.toBase()
	case mtu == s.mtu:
		s.resolve()
		s.finish()
	case !larger:
		// No probe of ours could have caused it: ignore; the probe times out.
		s.OnLoss(size, now)
	default:
		s.resolve()
		s.maxP = mtu
		s.removeProbes(func(p int) bool { return p > mtu })
		if s.countOf(mtu) == 0 {
			s.cur = mtu
		} else {
			s.sendNext()
		}
	}
}

func (s *freeBSD) Estimate() int   { return s.mtu }
func (s *freeBSD) Clone() Strategy { c := *s; return &c }
func (s *freeBSD) Key() any        { return *s }
