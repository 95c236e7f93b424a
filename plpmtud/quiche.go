package plpmtud

import "time"

func init() {
	register(Info{
		Name: "quiche", Model: true, NativeStep: 1,
		Summary: "model of cloudflare quiche (quiche/src/pmtud.rs): probe Max first, then bisection; a size fails after 3 consecutive losses; 1-byte precision",
		new:     newQuiche,
	})
}

// quiche models Pmtud in quiche/src/pmtud.rs: the first probe is the
// maximum supported size; a size counts as failed after max_probes (3)
// consecutive losses; with a success and a failure it probes their
// midpoint, with only a failure the midpoint of MIN_PLPMTU (Min) and the
// failure; it is done when failure-success <= 1, when the first probe
// succeeds, or when Min itself failed. quiche reads no ICMP.
type quiche struct {
	common
	probe            int
	success, failure int // 0 = none
	fails            int
}

const quicheMaxProbes = 3

func newQuiche(c Config) (Strategy, error) {
	s := &quiche{common: newCommon(c, quicheMaxProbes*(bisectBound(c.Max+1-c.Min, 1)+2))}
	s.Reset()
	return s, nil
}

func (s *quiche) Reset() {
	s.common.reset()
	s.probe, s.success, s.failure, s.fails = s.max, 0, 0, 0
	s.state = Searching
}

func (s *quiche) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.probe)
}

func (s *quiche) update() {
	switch {
	case s.failure != 0 && s.success != 0:
		if s.failure <= s.success {
			// Inconsistent results: restart.
			s.success, s.failure, s.probe = 0, 0, s.max
			return
		}
		if s.failure-s.success <= 1 {
			s.finish()
			return
		}
		s.probe = (s.success + s.failure) / 2
	case s.failure != 0:
		if s.failure == s.min {
			s.finish()
			return
		}
		s.probe = (s.min + s.failure) / 2
	case s.success != 0:
		s.finish()
	default:
		s.probe = s.max
	}
}

func (s *quiche) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.fails = 0
	s.success = max(s.success, min(size, s.max))
	s.update()
}

func (s *quiche) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.fails++
	if s.fails < quicheMaxProbes {
		return
	}
	s.fails = 0
	size = max(size, s.min)
	if s.failure == 0 || size < s.failure {
		s.failure = size
	}
	s.update()
}

func (s *quiche) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }

func (s *quiche) Estimate() int {
	if s.success != 0 {
		return s.success
	}
	return s.min
}
func (s *quiche) Clone() Strategy { c := *s; return &c }
func (s *quiche) Key() any        { return *s }
