package tput

import (
	"fmt"
	"math"
	"time"

	"github.com/mtukit/mtukit/encap"
)

// EthernetFraming is what an Ethernet frame adds outside the IP MTU, in
// bytes on the wire: preamble and SFD 8, header 14, FCS 4, inter-frame gap 12.
const EthernetFraming = 8 + 14 + 4 + 12

// TCPHeader is the fixed TCP header (RFC 9293), without options.
const TCPHeader = 20

// TimestampOptions is what the timestamps option costs on every segment:
// 10 bytes padded to 12 (RFC 7323).
const TimestampOptions = 12

// LossModel picks the loss limit that competes with the other two.
type LossModel uint8

const (
	ModelPFTK   LossModel = iota // Padhye et al. 1998, full model (timeouts and window)
	ModelMathis                  // Mathis et al. 1997
)

func (m LossModel) String() string {
	if m == ModelMathis {
		return "mathis"
	}
	return "pftk"
}

// MarshalText makes the model a JSON string.
func (m LossModel) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// ParseLossModel reads "pftk" or "mathis".
func ParseLossModel(s string) (LossModel, error) {
	switch s {
	case "pftk", "padhye":
		return ModelPFTK, nil
	case "mathis":
		return ModelMathis, nil
	}
	return 0, fmt.Errorf("loss model %q: want pftk or mathis", s)
}

// Limit names a limit on goodput.
type Limit string

const (
	LimitWindow Limit = "window"   // receive window / RTT
	LimitLoss   Limit = "loss"     // Mathis or PFTK
	LimitLink   Limit = "link"     // line rate x efficiency
	LimitMTU    Limit = "path MTU" // the segment does not fit the path at all
)

// Params describe the path and the connection.
type Params struct {
	// Family is the IP version of the TCP connection (the inner packets).
	Family encap.Family
	// LinkMTU is the IP MTU of the physical link the stack rides on.
	LinkMTU int
	// Stack is the encapsulation between TCP's packets and the link; nil or
	// empty means TCP runs on the link itself.
	Stack *encap.Stack
	// Framing is what each frame costs on the wire outside the link MTU:
	// EthernetFraming on Ethernet.
	Framing int
	// Options is the TCP option bytes in every data segment (TimestampOptions
	// when timestamps are on); they come out of the MSS.
	Options int
	// Rate is the line rate of the link.
	Rate Rate
	RTT  time.Duration
	// Loss is the probability that a segment is lost, in [0, 1).
	Loss float64
	// Window is the receive window in bytes.
	Window int64
	// Model is the loss model that competes; both are always computed.
	Model LossModel
	// AckEvery is b, the segments acknowledged per ACK (default 1).
	AckEvery int
	// C is the Mathis constant; 0 means MathisC(AckEvery).
	C float64
	// RTO is T0 for PFTK; 0 means DefaultRTO(RTT).
	RTO time.Duration
}

// Validate checks every parameter and names the first that is wrong.
func (p *Params) Validate() error {
	switch p.Family {
	case encap.IPv4, encap.IPv6:
	default:
		return fmt.Errorf("family %d is neither IPv4 nor IPv6", p.Family)
	}
	if err := encap.CheckLinkMTU(p.LinkMTU); err != nil {
		return err
	}
	if p.Framing < 0 || p.Framing > 1000 {
		return fmt.Errorf("framing %d bytes outside 0..1000", p.Framing)
	}
	if p.Options < 0 || p.Options > 40 || p.Options%4 != 0 {
		return fmt.Errorf("TCP options %d bytes: want a multiple of 4 in 0..40", p.Options)
	}
	if !(p.Rate > 0) || p.Rate.IsUnlimited() {
		return fmt.Errorf("line rate %v must be positive and finite", p.Rate)
	}
	if p.RTT <= 0 {
		return fmt.Errorf("RTT %v must be positive", p.RTT)
	}
	if p.RTT > time.Hour {
		return fmt.Errorf("RTT %v is above an hour", p.RTT)
	}
	if !(p.Loss >= 0 && p.Loss < 1) {
		return fmt.Errorf("loss %v outside [0, 1)", p.Loss)
	}
	if err := CheckWindow(p.Window); err != nil {
		return err
	}
	if p.AckEvery < 0 || p.AckEvery > 64 {
		return fmt.Errorf("ACK every %d segments: want 1..64", p.AckEvery)
	}
	if p.C < 0 || math.IsNaN(p.C) || math.IsInf(p.C, 0) {
		return fmt.Errorf("Mathis constant %v must be positive", p.C)
	}
	if p.RTO < 0 || p.RTO > time.Hour {
		return fmt.Errorf("RTO %v outside 0..1h", p.RTO)
	}
	if _, err := p.PathMTU(); err != nil {
		return err
	}
	return nil
}

func (p *Params) b() int { return max(p.AckEvery, 1) }

// MathisConst is the Mathis constant in use.
func (p *Params) MathisConst() float64 {
	if p.C > 0 {
		return p.C
	}
	return MathisC(p.b())
}

// T0 is the retransmission timeout in use.
func (p *Params) T0() time.Duration {
	if p.RTO > 0 {
		return p.RTO
	}
	return DefaultRTO(p.RTT)
}

// PathMTU is the largest packet TCP can send: the stack's tunnel MTU on the
// link, or the link MTU without a stack.
func (p *Params) PathMTU() (int, error) { return pathMTU(p.Stack, p.LinkMTU, p.Family) }

func pathMTU(s *encap.Stack, link int, f encap.Family) (int, error) {
	m := link
	if s != nil && len(s.Layers) > 0 {
		t, err := s.TunnelMTU(link)
		if err != nil {
			return 0, err
		}
		m = t
	}
	if f == encap.IPv6 && m < 1280 {
		return 0, fmt.Errorf("path MTU %d is below IPv6's minimum of 1280 (RFC 8200)", m)
	}
	return m, nil
}

// headers is the fixed IP + TCP header bytes of the connection's packets.
func (p *Params) headers() int { return p.Family.HeaderLen() + TCPHeader }

// MSSForMTU is the MSS for a path MTU (RFC 6691: fixed headers only).
func (p *Params) MSSForMTU(mtu int) int { return mtu - p.headers() }

// Limits is the goodput of one MSS against each limit.
type Limits struct {
	MSS     int `json:"mss"`
	Payload int `json:"payload"`   // MSS - options: data bytes per segment
	Packet  int `json:"ip_packet"` // MSS + TCP + IP headers
	// Wire is the bytes one segment occupies on the physical link, every
	// encapsulation layer and the framing included (all fragments').
	Wire       int     `json:"wire_bytes"`
	Fragments  int     `json:"fragments"`
	Efficiency float64 `json:"efficiency"` // Payload / Wire
	// SegmentLoss is the loss of a whole segment: Loss, or 1-(1-Loss)^n for
	// a segment sent as n fragments.
	SegmentLoss float64 `json:"segment_loss"`
	Window      Rate    `json:"window_limit"`
	Mathis      Rate    `json:"mathis_limit"`
	PFTK        Rate    `json:"pftk_limit"`
	Loss        Rate    `json:"loss_limit"` // Mathis or PFTK, as Params.Model says
	Link        Rate    `json:"link_limit"`
	Fits        bool    `json:"fits"`
	// Goodput is the smallest limit, or 0 when the segment does not fit.
	Goodput Rate  `json:"goodput"`
	Binding Limit `json:"binding"`
}

// Evaluate computes every limit for an MSS on the path of p.
func (p *Params) Evaluate(mss int) (Limits, error) {
	if err := p.Validate(); err != nil {
		return Limits{}, err
	}
	m, _ := p.PathMTU()
	return p.eval(mss, p.Stack, m, false)
}

// checkMSS validates an MSS against the options and the IP length limit.
func (p *Params) checkMSS(mss int) error {
	if mss <= p.Options {
		return fmt.Errorf("MSS %d leaves no payload after %d bytes of TCP options", mss, p.Options)
	}
	if mss+p.headers() > 65535 {
		return fmt.Errorf("MSS %d makes a packet above 65535 bytes", mss)
	}
	return nil
}

// eval computes the limits of mss when the largest packet that crosses the
// path is pathMTU and the link carries stack s. With frag, a packet larger
// than pathMTU is sent as IPv4 fragments instead of not fitting.
func (p *Params) eval(mss int, s *encap.Stack, pathMTU int, frag bool) (Limits, error) {
	if err := p.checkMSS(mss); err != nil {
		return Limits{}, err
	}
	l := Limits{MSS: mss, Payload: mss - p.Options, Packet: mss + p.headers(), SegmentLoss: p.Loss}
	l.Fits = l.Packet <= pathMTU
	l.Fragments = 1
	if !l.Fits && frag {
		sizes, err := fragmentSizes(l.Packet, pathMTU)
		if err != nil {
			return Limits{}, err
		}
		l.Fragments = len(sizes)
		for _, n := range sizes {
			w, err := frameBytes(s, n, p.LinkMTU, p.Framing)
			if err != nil {
				return Limits{}, err
			}
			l.Wire += w
		}
		l.SegmentLoss = 1 - math.Pow(1-p.Loss, float64(l.Fragments))
	} else {
		w, err := frameBytes(s, l.Packet, p.LinkMTU, p.Framing)
		if err != nil {
			return Limits{}, err
		}
		l.Wire = w
	}
	l.Efficiency = float64(l.Payload) / float64(l.Wire)
	l.Link = Rate(float64(p.Rate) * l.Efficiency)
	l.Window = WindowLimit(p.Window, p.RTT)
	l.Mathis = Mathis(l.Payload, p.RTT, l.SegmentLoss, p.MathisConst())
	seg := PFTK(l.SegmentLoss, PFTKParams{RTT: p.RTT, T0: p.T0(), B: p.b(), Wmax: float64(p.Window) / float64(l.Payload)})
	l.PFTK = Rate(seg * float64(l.Payload) * 8)
	l.Loss = l.PFTK
	if p.Model == ModelMathis {
		l.Loss = l.Mathis
	}
	l.Goodput, l.Binding = l.Link, LimitLink
	if l.Window < l.Goodput {
		l.Goodput, l.Binding = l.Window, LimitWindow
	}
	if l.Loss < l.Goodput {
		l.Goodput, l.Binding = l.Loss, LimitLoss
	}
	if !l.Fits && !frag {
		l.Goodput, l.Binding = 0, LimitMTU
	}
	return l, nil
}

// frameBytes is what an IP packet of n bytes occupies on the physical link:
// every layer of s (padding and framing outside the MTU, such as VLAN tags,
// included) plus framing.
func frameBytes(s *encap.Stack, n, link, framing int) (int, error) {
	if s == nil || len(s.Layers) == 0 {
		return n + framing, nil
	}
	fs, err := s.Breakdown(n, link)
	if err != nil {
		return 0, err
	}
	total := framing
	for _, f := range fs {
		total += f.Bytes
	}
	return total, nil
}

// fragmentSizes splits an IPv4 packet of n bytes (20-byte header) into the
// fragments a router sends on a path MTU of mtu (RFC 791: fragment data in
// multiples of 8 bytes, every fragment with its own header).
func fragmentSizes(n, mtu int) ([]int, error) {
	const hdr = 20
	if n <= mtu {
		return []int{n}, nil
	}
	unit := (mtu - hdr) / 8 * 8
	if unit <= 0 {
		return nil, fmt.Errorf("path MTU %d leaves no room for fragment data", mtu)
	}
	data := n - hdr
	var out []int
	for data > unit {
		out = append(out, hdr+unit)
		data -= unit
	}
	return append(out, hdr+data), nil
}
