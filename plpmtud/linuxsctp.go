package plpmtud

import "time"

func init() {
	register(Info{
		Name: "linux-sctp", Model: true, NativeStep: 4,
		Summary: "model of Linux SCTP PLPMTUD (net/sctp/transport.c sctp_transport_pl_*): BASE, +32 steps, then back to the PMTU and +4 steps; 3 tries per size",
		new:     newLinuxSCTP,
	})
}

// linuxSCTP models sctp_transport_pl_send, sctp_transport_pl_recv and
// sctp_transport_pl_toobig (net/sctp/transport.c). BASE probes
// SCTP_BASE_PLPMTU (Min); an acknowledgement enters SEARCH and adds
// SCTP_PL_BIG_STEP (32) per acknowledged probe; SCTP_MAX_PROBES (3) losses
// of a size set probe_high to it and probe the current PMTU again, after
// which SCTP_PL_MIN_STEP (4) steps run until probe_high: the PMTU is then
// within 4 bytes. Three losses of the current PMTU's own size are a black
// hole (back to BASE); three at BASE are ERROR. A PTB between the PMTU and
// the probe becomes the next probe; one below the PMTU returns to BASE.
type linuxSCTP struct {
	common
	pmtu, probe, high int
	count             int
}

const (
	sctpBigStep   = 32
	sctpMinStep   = 4
	sctpMaxProbes = 3
)

func newLinuxSCTP(c Config) (Strategy, error) {
	big := (c.Max-c.Min+sctpBigStep-1)/sctpBigStep + 1
	// BASE, big steps, the PMTU again, 8 small steps, the failing one;
	// each size at most 3 probes, and one return to BASE.
	one := sctpMaxProbes * (1 + big + 1 + sctpBigStep/sctpMinStep + 1)
	s := &linuxSCTP{common: newCommon(c, 2*one)}
	s.Reset()
	return s, nil
}

func (s *linuxSCTP) toBase() {
	s.state = Base
	s.pmtu, s.probe, s.high, s.count = s.min, s.min, 0, 0
	s.done = false
}

func (s *linuxSCTP) Reset() {
	s.common.reset()
	s.toBase()
}

func (s *linuxSCTP) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.probe)
}

// OnAck is sctp_transport_pl_recv.
func (s *linuxSCTP) OnAck(size int, _ time.Duration) {
	if !s.resolve() || s.done || size != s.probe {
		return
	}
	s.pmtu, s.count = s.probe, 0
	switch s.state {
	case Base:
		s.state = Searching
		s.probe = min(s.probe+sctpBigStep, s.max)
		if s.probe == s.pmtu {
			s.finish()
		}
	case Searching:
		if s.high == 0 {
			if s.probe < s.max {
				s.probe = min(s.probe+sctpBigStep, s.max)
				return
			}
			s.high = s.max
		}
		s.probe += sctpMinStep
		if s.probe >= s.high {
			s.high, s.probe = 0, s.pmtu
			s.finish()
		}
	}
}

// OnLoss is the failure branch of sctp_transport_pl_send, taken when the
// probe timer fires with SCTP_MAX_PROBES probes of the size unanswered.
func (s *linuxSCTP) OnLoss(size int, _ time.Duration) {
	if !s.resolve() || s.done {
		return
	}
	s.count++
	if s.count < sctpMaxProbes {
		return
	}
	s.count = 0
	switch s.state {
	case Base:
		s.state = Error
		s.finish()
	case Searching:
		if s.pmtu == s.probe {
			// Black hole detected: Search -> Base.
			s.toBase()
			return
		}
		s.high, s.probe = s.probe, s.pmtu
	}
}

// OnPTB is sctp_transport_pl_toobig; a PTB it ignores leaves the probe to
// time out.
func (s *linuxSCTP) OnPTB(size, mtu int, now time.Duration) {
	if s.inflight == 0 || s.done {
		return
	}
	if mtu < s.min || mtu >= s.probe || s.state != Searching {
		s.OnLoss(size, now)
		return
	}
	switch {
	case mtu < s.pmtu:
		s.resolve()
		s.toBase()
	case mtu > s.pmtu:
		s.resolve()
		s.probe, s.count = mtu, 0
	default:
		s.OnLoss(size, now)
	}
}

func (s *linuxSCTP) Estimate() int   { return s.pmtu }
func (s *linuxSCTP) Clone() Strategy { c := *s; return &c }
func (s *linuxSCTP) Key() any        { return *s }
