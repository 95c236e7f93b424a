package encap

import "fmt"

// Link MTU bounds: IPv4's minimum (RFC 791) and IPv4's total-length limit.
const (
	MinLinkMTU = 68
	MaxLinkMTU = 65535
)

// Solution is the answer for a stack on a link.
type Solution struct {
	LinkMTU   int `json:"link_mtu"`
	TunnelMTU int `json:"tunnel_mtu"` // largest inner IP packet that fits
	// OverheadMin and OverheadMax bound the bytes the stack adds, over the
	// inner packet sizes up to TunnelMTU; they differ when a layer pads.
	OverheadMin int `json:"overhead_min"`
	OverheadMax int `json:"overhead_max"`
	// AtMTU is the wire size of a TunnelMTU-byte inner packet; Slack is what
	// padding leaves unused below the link MTU (AES-CBC: up to 15 bytes).
	AtMTU  int        `json:"wire_at_tunnel_mtu"`
	Slack  int        `json:"slack"`
	Layers []LayerMTU `json:"layers"`
}

// LayerMTU is one layer's place in a solved stack.
type LayerMTU struct {
	Spec string `json:"spec"`
	Kind string `json:"kind"`
	Room int    `json:"room"` // bytes available for the packet this layer emits
	MTU  int    `json:"mtu"`  // largest inner packet this layer accepts
	RFC  string `json:"rfc"`
}

// NoRoomError is a stack whose overhead leaves no usable inner packet.
type NoRoomError struct {
	LinkMTU int
	Layer   int    // index of the layer that ran out of room
	Spec    string // that layer's spec
	Left    int    // inner bytes it would leave (may be negative)
}

func (e *NoRoomError) Error() string {
	return fmt.Sprintf("stack leaves no room on a %d-byte link: after layer %d (%s) only %d bytes remain, below the IPv4 minimum of %d",
		e.LinkMTU, e.Layer+1, e.Spec, e.Left, MinLinkMTU)
}

// CheckLinkMTU reports whether mtu is a valid link MTU.
func CheckLinkMTU(mtu int) error {
	if mtu < MinLinkMTU || mtu > MaxLinkMTU {
		return fmt.Errorf("link MTU %d outside %d..%d", mtu, MinLinkMTU, MaxLinkMTU)
	}
	return nil
}

// mtus fills dst with each layer's own MTU (largest inner packet) on a
// link of linkMTU and returns the tunnel MTU.
func (s *Stack) mtus(linkMTU int, dst []int) (int, error) {
	if err := CheckLinkMTU(linkMTU); err != nil {
		return 0, err
	}
	room := linkMTU
	for i := range s.Layers {
		inner := s.Layers[i].maxInner(room)
		if inner < MinLinkMTU {
			return 0, &NoRoomError{LinkMTU: linkMTU, Layer: i, Spec: s.Layers[i].Spec, Left: inner}
		}
		if dst != nil {
			dst[i] = inner
		}
		room = inner
	}
	return room, nil
}

// TunnelMTU is the largest inner IP packet that fits a link of linkMTU.
func (s *Stack) TunnelMTU(linkMTU int) (int, error) {
	if len(s.Layers) <= 16 {
		var buf [16]int
		return s.mtus(linkMTU, buf[:len(s.Layers)])
	}
	return s.mtus(linkMTU, make([]int, len(s.Layers)))
}

// WireSize is the size, counted against the link MTU, of an inner IP packet
// of inner bytes. It may exceed linkMTU: that packet does not fit.
func (s *Stack) WireSize(inner, linkMTU int) (int, error) {
	var buf [16]int
	m := buf[:0]
	if len(s.Layers) > len(buf) {
		m = make([]int, len(s.Layers))
	}
	m = m[:len(s.Layers)]
	if _, err := s.mtus(linkMTU, m); err != nil {
		return 0, err
	}
	if inner < 1 {
		return 0, fmt.Errorf("inner packet of %d bytes", inner)
	}
	return s.wire(inner, m), nil
}

func (s *Stack) wire(p int, mtus []int) int {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		p = s.Layers[i].outer(p, mtus[i])
	}
	return p
}

// scan is how many inner sizes below the tunnel MTU the overhead range is
// taken over: every padding block is a power of two no larger than 16, so
// the overhead is periodic with period 16, and WireGuard's capped padding
// only differs within 16 bytes of its MTU.
const scan = 64

// Solve computes the tunnel MTU, the overhead range and per-layer MTUs.
func (s *Stack) Solve(linkMTU int) (Solution, error) {
	m := make([]int, len(s.Layers))
	t, err := s.mtus(linkMTU, m)
	if err != nil {
		return Solution{}, err
	}
	sol := Solution{LinkMTU: linkMTU, TunnelMTU: t, OverheadMin: 1 << 30}
	for p := t; p >= 1 && p > t-scan; p-- {
		oh := s.wire(p, m) - p
		sol.OverheadMin = min(sol.OverheadMin, oh)
		sol.OverheadMax = max(sol.OverheadMax, oh)
	}
	sol.AtMTU = s.wire(t, m)
	sol.Slack = linkMTU - sol.AtMTU
	room := linkMTU
	for i := range s.Layers {
		l := &s.Layers[i]
		sol.Layers = append(sol.Layers, LayerMTU{Spec: l.Spec, Kind: l.Kind.String(), Room: room, MTU: m[i], RFC: l.RFC})
		room = m[i]
	}
	return sol, nil
}

// Field is one header, trailer or payload in a packet breakdown.
type Field struct {
	Part
	// Outside marks framing that does not count against the link MTU.
	Outside bool `json:"outside_mtu,omitempty"`
	// Payload marks the inner packet itself.
	Payload bool `json:"payload,omitempty"`
}

// Breakdown lists, outermost first, every header, the inner packet, and every
// padding and trailer, for an inner packet of inner bytes on linkMTU.
func (s *Stack) Breakdown(inner, linkMTU int) ([]Field, error) {
	m := make([]int, len(s.Layers))
	if _, err := s.mtus(linkMTU, m); err != nil {
		return nil, err
	}
	if inner < 1 {
		return nil, fmt.Errorf("inner packet of %d bytes", inner)
	}
	n := len(s.Layers)
	pads := make([]int, n)
	p := inner
	for i := n - 1; i >= 0; i-- {
		pads[i] = s.Layers[i].pad(p, m[i])
		p = s.Layers[i].outer(p, m[i])
	}
	// A transport-mode layer (Keep > 0: ESP or AH in transport mode) puts
	// its header after the IP header of the packet it protects, not in
	// front of it (RFC 4303 §3.1.1, RFC 4302 §3.1.1). That IP header is the
	// next IP header inwards: the outer header of the next tunnel layer,
	// or the inner packet's own.
	var out, deferred []Field
	keep := 0 // Keep of the first layer waiting for its IP header
	for i := range s.Layers {
		l := &s.Layers[i]
		for j, h := range l.Head {
			f := Field{Part: h, Outside: l.NoCount}
			if l.Keep > 0 {
				if len(deferred) == 0 {
					keep = l.Keep
				}
				deferred = append(deferred, f)
				continue
			}
			out = append(out, f)
			if j == 0 && len(deferred) > 0 && isIPHeader(h) {
				out, deferred = append(out, deferred...), deferred[:0]
			}
		}
	}
	if len(deferred) > 0 {
		keep = min(keep, inner)
		out = append(out, Field{Part: Part{Name: "inner packet (IP header)", Bytes: keep}, Payload: true})
		out = append(out, deferred...)
		if inner > keep {
			out = append(out, Field{Part: Part{Name: "inner packet (rest)", Bytes: inner - keep}, Payload: true})
		}
	} else {
		out = append(out, Field{Part: Part{Name: "inner packet", Bytes: inner}, Payload: true})
	}
	for i := n - 1; i >= 0; i-- {
		l := &s.Layers[i]
		if pads[i] > 0 {
			name := "padding"
			switch {
			case l.Name == "esp":
				name = "ESP padding"
			case l.MinPad > 0:
				name = "PKCS#7 padding"
			case l.PadCap:
				name = "WireGuard padding"
			}
			out = append(out, Field{Part: Part{Layer: l.Spec, Name: name, Bytes: pads[i]}})
		}
		for _, t := range l.Tail {
			out = append(out, Field{Part: t, Outside: l.NoCount})
		}
	}
	return out, nil
}

// isIPHeader reports whether a head part is an IP header another layer's
// transport-mode header can follow.
func isIPHeader(p Part) bool {
	return p.Name == "outer IPv4" || p.Name == "outer IPv6"
}
