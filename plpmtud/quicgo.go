package plpmtud

import "time"

func init() {
	register(Info{
		Name: "quic-go", Model: true, NativeStep: 21, PacingRTTs: 5,
		Summary: "model of quic-go (mtu_discoverer.go): loss-tolerant bisection that probes lower after a loss, tolerates 2 random losses, stops within 20 bytes, one probe every 5 RTTs",
		new:     newQuicGo,
	})
}

// quicGo models quic-go's mtuFinder (mtu_discoverer.go, since v0.46): it
// keeps min (the largest acknowledged size) and lost, the three smallest
// lost sizes above min, with max the largest of them (Max at first). After
// an acknowledgement it probes (min+max)/2; after a loss it probes lower,
// (min+lost[0])/2, before trying the lost size again. Sizes that lost three
// probes are given up. It is done when max-min <= maxMTUDiff+1 = 21.
// quic-go acts on no ICMP message: a PTB counts as the loss it also is.
type quicGo struct {
	common
	lo       int
	lost     [3]int // ascending; 0 = empty
	lastLost bool
	cur      int
}

const quicGoMaxMTUDiff = 20

func newQuicGo(c Config) (Strategy, error) {
	// Each probe either raises min or puts a size below max into lost;
	// TestBounds checks this bound by exhaustive enumeration.
	s := &quicGo{common: newCommon(c, 3*(log2ceil(c.Max-c.Min+1)+2))}
	s.Reset()
	return s, nil
}

func (s *quicGo) Reset() {
	s.common.reset()
	s.lo, s.lost, s.lastLost = s.min, [3]int{s.max, 0, 0}, false
	s.state = Searching
	s.check()
}

func (s *quicGo) hi() int {
	for i := len(s.lost) - 1; i >= 0; i-- {
		if s.lost[i] != 0 {
			return s.lost[i]
		}
	}
	return s.lo
}

func (s *quicGo) check() {
	if s.hi()-s.lo <= quicGoMaxMTUDiff+1 {
		s.finish()
	}
}

func (s *quicGo) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	if s.lastLost {
		s.cur = (s.lo + s.lost[0]) / 2
	} else {
		s.cur = (s.lo + s.hi()) / 2
	}
	return s.send(s.cur)
}

func (s *quicGo) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.lo, s.lastLost = size, false
	// Drop the lost sizes not above the acknowledged one.
	j := 0
	for j < len(s.lost) && s.lost[j] != 0 && s.lost[j] <= size {
		j++
	}
	if j > 0 {
		var next [3]int
		copy(next[:], s.lost[j:])
		s.lost = next
	}
	s.check()
}

func (s *quicGo) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.lastLost = true
	for i, v := range s.lost {
		if v == 0 || size < v {
			copy(s.lost[i+1:], s.lost[i:])
			s.lost[i] = size
			break
		}
	}
	s.check()
}

func (s *quicGo) OnPTB(size, _ int, now time.Duration) { s.OnLoss(size, now) }
func (s *quicGo) Estimate() int                        { return s.lo }
func (s *quicGo) Clone() Strategy                      { c := *s; return &c }
func (s *quicGo) Key() any                             { return *s }
