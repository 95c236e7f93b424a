package plpmtud

import "time"

func init() {
	register(Info{
		Name: "linux-tcp", Model: true, NativeStep: 8,
		Summary: "model of Linux TCP MTU probing (net/ipv4/tcp_output.c tcp_mtu_probe): binary search, one probe per size, stops under tcp_probe_threshold 8 bytes",
		new:     newLinuxTCP,
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
