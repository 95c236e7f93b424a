package plpmtud

import "time"

// Models of what real stacks do, each following the named source file.
// They keep the stack's own constants (step, tries, precision) and ignore
// Config.Step and Config.MaxProbes; Config.Min and Config.Max stand for the
// stack's base and maximum sizes. Sizes are IP packet sizes throughout
// (Linux TCP works in MSS and converts with a fixed header, which is the
// same search).

func init() {
	register(Info{
		Name: "linux-tcp", Model: true, NativeStep: 8,
		Summary: "model of Linux TCP MTU probing (net/ipv4/tcp_output.c tcp_mtu_probe): binary search, one probe per size, stops under tcp_probe_threshold 8 bytes",
		new:     newLinuxTCP,
	})
	register(Info{
		Name: "quic-go", Model: true, NativeStep: 21, PacingRTTs: 5,
		Summary: "model of quic-go (mtu_discoverer.go): loss-tolerant bisection that probes lower after a loss, tolerates 2 random losses, stops within 20 bytes, one probe every 5 RTTs",
		new:     newQuicGo,
	})
	register(Info{
		Name: "quiche", Model: true, NativeStep: 1,
		Summary: "model of cloudflare quiche (quiche/src/pmtud.rs): probe Max first, then bisection; a size fails after 3 consecutive losses; 1-byte precision",
		new:     newQuiche,
	})
	register(Info{
		Name: "msquic", Model: true, NativeStep: 80,
		Summary: "model of msquic (src/core/mtu_discovery.c): +80 bytes per probe (1520 forced to 1500), 3 tries, stops at the first size lost 3 times",
		new:     newMsquic,
	})
	register(Info{
		Name: "linux-sctp", Model: true, NativeStep: 4,
		Summary: "model of Linux SCTP PLPMTUD (net/sctp/transport.c sctp_transport_pl_*): BASE, +32 steps, then back to the PMTU and +4 steps; 3 tries per size",
		new:     newLinuxSCTP,
	})
	register(Info{
		Name: "freebsd-sctp", Model: true, NativeStep: 4,
		Summary: "model of FreeBSD SCTP PLPMTUD OptBinary (netinet/sctp_plpmtud.c): BASE, Max first, then bisection on a 4-byte grid that probes below an expired size before repeating it; 3 tries",
		new:     newFreeBSD,
	})
}

// linuxTCP models tcp_mtu_probe: search_low starts at the base MTU
// (tcp_base_mss plus headers; here Min) and search_high at the peer's MSS
// clamp plus headers (here Max). The probe is (search_high+search_low)/2;
// tcp_mtup_probe_success sets search_low to it and tcp_mtup_probe_failed
// sets search_high to it minus one, after a single loss. Probing stops when
// search_high-search_low < tcp_probe_threshold (8). A PTB lowers
// search_high (tcp_sync_mss) and, below search_low, the MSS in use. After
// three retransmission timeouts (tcp_retries1) of full-size packets
// tcp_mtu_probing halves search_low, floored at 48+40 (tcp_min_snd_mss).
type linuxTCP struct {
	common
	low, high int
	cur       int
	rtos      int
}

const (
	linuxProbeThreshold = 8
	linuxHeaders        = 40 // IPv4 + TCP, as tcp_mtu_to_mss
	linuxBaseMSS        = 1024
	linuxMinSndMSS      = 48
)

func newLinuxTCP(c Config) (Strategy, error) {
	// Worst case: every probe acknowledged keeps ceil(L/2) of the interval.
	n, k := c.Max-c.Min, 0
	for n >= linuxProbeThreshold {
		n -= n / 2
		k++
	}
	s := &linuxTCP{common: newCommon(c, 2*k)}
	s.Reset()
	return s, nil
}

func (s *linuxTCP) Reset() {
	s.common.reset()
	s.low, s.high, s.rtos = s.min, s.max, 0
	s.state = Searching
	s.pick()
}

func (s *linuxTCP) pick() {
	if s.high-s.low < linuxProbeThreshold {
		s.finish()
		return
	}
	s.done, s.state = false, Searching
	s.cur = (s.high + s.low) >> 1
}

func (s *linuxTCP) Next(time.Duration) (int, bool) {
	if !s.ready() {
		return 0, false
	}
	return s.send(s.cur)
}

func (s *linuxTCP) OnAck(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.low = max(s.low, size)
	s.pick()
}

func (s *linuxTCP) OnLoss(size int, _ time.Duration) {
	if !s.resolve() {
		return
	}
	s.high = min(s.high, size-1)
	s.pick()
}

func (s *linuxTCP) OnPTB(size, mtu int, now time.Duration) {
	if !s.validPTB(size, mtu) {
		s.OnLoss(size, now)
		return
	}
	if !s.resolve() {
		return
	}
	s.high = min(s.high, mtu)
	s.low = min(s.low, mtu)
	s.pick()
}

// OnTrafficLoss stands for a retransmission timeout of a full-size packet.
func (s *linuxTCP) OnTrafficLoss(size int, _ time.Duration) {
	if size < s.low {
		return
	}
	s.rtos++
	if s.rtos < 3 {
		return
	}
	s.rtos = 0
	mss := (s.low - linuxHeaders) >> 1
	mss = min(mss, linuxBaseMSS)
	mss = max(mss, linuxMinSndMSS)
	s.low = max(mss+linuxHeaders, MinSize)
	s.pick()
}

func (s *linuxTCP) Estimate() int   { return s.low }
func (s *linuxTCP) Clone() Strategy { c := *s; return &c }
func (s *linuxTCP) Key() any        { return *s }

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
