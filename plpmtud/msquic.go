package plpmtud

import "time"

func init() {
	register(Info{
		Name: "msquic", Model: true, NativeStep: 80,
		Summary: "model of msquic (src/core/mtu_discovery.c): +80 bytes per probe (1520 forced to 1500), 3 tries, stops at the first size lost 3 times",
		new:     newMsquic,
	})
}

// msquic models QUIC_MTU_DISCOVERY in src/core/mtu_discovery.c: from the
// current MTU (Min) each probe adds QUIC_DPLPMTUD_INCREMENT (80), clipped
// to the maximum, and a computed 1520 is forced to 1500 (which only
// happens from a start of 1280, msquic's minimum); an acknowledged probe
// becomes the MTU; a size lost QUIC_DPLPMTUD_MAX_PROBES (3) times ends the
// search. msquic reads no ICMP for this.
type msquic struct {
	common
	cur, probed int
	count       int
}

const (
	msquicIncrement = 80
	msquicMaxProbes = 3
)

func newMsquic(c Config) (Strategy, error) {
	sizes := (c.Max-c.Min+msquicIncrement-1)/msquicIncrement + 1
	s := &msquic{common: newCommon(c, sizes*msquicMaxProbes)}
	s.Reset()
	return s, nil
}

func (s *msquic) nextSize() int {
	m := s.cur + msquicIncrement
	if m > s.max {
		m = s.max
	} else if m == 1520 {
		m = 1500
	}
	return m
}

func (s *msquic) Reset() {
	s.common.reset()
	s.cur, s.count = s.min, 0
	s.state = Searching
	s.probed = s.nextSize()
	if s.probed == s.cur {
		s.finish()
	}
}

func (s *msquic) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.probed)
}

func (s *msquic) OnAck(size int, _ time.Duration) {
	if !s.resolve() || size != s.probed {
		return
	}
	s.cur = s.probed
	if s.cur == s.max {
		s.finish()
		return
	}
	s.count = 0
	s.probed = s.nextSize()
	if s.probed == s.cur {
		s.finish()
	}
}

func (s *msquic) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	if s.count >= msquicMaxProbes-1 {
		s.finish()
		return
	}
	s.count++
}

func (s *msquic) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }
func (s *msquic) Estimate() int                        { return s.cur }
func (s *msquic) Clone() Strategy                      { c := *s; return &c }
func (s *msquic) Key() any                             { return *s }
