package advise

import (
	"fmt"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// Options are the inputs of a calculation.
type Options struct {
	Stack   string             // stack spec, wire inwards; "" is a plain link
	LinkMTU int                // IP MTU of the link; 0 means 1500
	Packet  int                // if > 0, also break down an inner packet of this size
	TCP     mss.SegmentOptions // options the sender puts on each segment
	Family  encap.Family
	// Interface is the tunnel interface name for the configuration lines;
	// "" means the name each platform gives the innermost layer's interface
	// (wg0 for WireGuard, gre1, vxlan0, ppp0...; see defaultIfs).
	Interface string
	Physical  string // physical interface name; "" means eth0
	// Preset names a setup of encap.Presets: it gives the stack, and the
	// link MTU and family unless those are set. It excludes Stack.
	Preset string
}

// Status values; see the package doc for the rule.
const (
	StatusOptimal    = "optimal"
	StatusNeedsClamp = "needs-clamp"
	StatusCritical   = "critical"
)

// Report is everything calc says about a stack. Its JSON form is the
// documented output of `mtukit calc --json` and of GET /api/v1/calc.
type Report struct {
	Stack        string           `json:"stack"`
	LinkMTU      int              `json:"link_mtu"`
	TunnelMTU    int              `json:"tunnel_mtu"`
	MSS          MSS              `json:"mss"`
	Payload      Payload          `json:"payload_per_segment"`
	Overhead     Overhead         `json:"overhead"`
	Layers       []encap.LayerMTU `json:"layers"`
	Arithmetic   Arithmetic       `json:"arithmetic"`
	Status       string           `json:"status"`
	StatusReason string           `json:"status_reason"`
	Efficiency   Efficiency       `json:"efficiency"`
	Warnings     []Warning        `json:"warnings"`
	Blueprint    Blueprint        `json:"blueprint"`
	Packet       *PacketReport    `json:"packet,omitempty"`
	Preset       *PresetCheck     `json:"preset,omitempty"`
	Clamp        []VendorConfig   `json:"clamp"`
}

// MSS is the value to advertise or clamp to, per family (RFC 6691: fixed
// headers only). IPv6 is 0 when the tunnel MTU is below 1280.
type MSS struct {
	IPv4 int `json:"ipv4"`
	IPv6 int `json:"ipv6"`
}

// Payload is the TCP payload a full-size segment really carries, per family,
// once the sender subtracts its options.
type Payload struct {
	Options        string `json:"options"` // the chosen options, e.g. "ts,sack=1"
	OptionBytes    int    `json:"option_bytes"`
	IPv4           int    `json:"ipv4"`
	IPv6           int    `json:"ipv6"`
	IPv4Timestamps int    `json:"ipv4_timestamps"` // with timestamps only (Linux's default)
	IPv6Timestamps int    `json:"ipv6_timestamps"`
}

// Overhead is what the stack adds. Min and Max differ when a layer pads.
type Overhead struct {
	Min   int `json:"min"`
	Max   int `json:"max"`
	AtMTU int `json:"wire_at_tunnel_mtu"` // wire size of a tunnel-MTU packet
	Slack int `json:"slack"`              // link bytes that padding leaves unused
	// For1500 is the link MTU needed to carry 1500-byte inner packets
	// unchanged (what to ask of the underlay instead of lowering the MTU).
	For1500 int `json:"link_mtu_for_1500"`
}

// Efficiency splits a full-size segment on the link into payload, the
// inner IP and TCP headers (with options), and encapsulation, as shares of
// the bytes on the link (the seed's bandwidth bar). Link framing outside the
// MTU (Ethernet header, preamble) is not counted; see package tput for that.
type Efficiency struct {
	Family        string  `json:"family"`
	WireBytes     int     `json:"wire_bytes"`
	PayloadBytes  int     `json:"payload_bytes"`
	HeaderBytes   int     `json:"header_bytes"`
	EncapBytes    int     `json:"encap_bytes"`
	Payload       float64 `json:"payload"`
	Headers       float64 `json:"headers"`
	Encapsulation float64 `json:"encapsulation"`
}

// PacketReport answers --packet N: how large an inner packet becomes.
type PacketReport struct {
	Inner  int           `json:"inner"`
	Wire   int           `json:"wire"`
	Fits   bool          `json:"fits"`
	Fields []encap.Field `json:"fields"`
}

// Calc computes the Report for opts. Bad input is an *encap.ParamError
// naming the option at fault (mtu, packet, stack, family) as calc's flag
// and the API's query parameter.
func Calc(opts Options) (*Report, error) {
	var preset *encap.Preset
	if opts.Preset != "" {
		p, err := encap.LookupPreset(opts.Preset)
		if err != nil {
			return nil, encap.Paramf("preset", "preset: %w", err)
		}
		if opts.Stack != "" {
			return nil, encap.Paramf("preset", "preset %s and stack %q both given: the preset sets the stack (%s); give one of them", p.Name, opts.Stack, p.Stack)
		}
		opts.Stack = p.Stack
		if opts.LinkMTU == 0 {
			opts.LinkMTU = p.LinkMTU
		}
		if opts.Family == 0 {
			opts.Family, _ = encap.ParseFamily(p.Family) // TestPresetsAgainstPublished checks it
		}
		preset = &p
	}
	if opts.LinkMTU == 0 {
		opts.LinkMTU = 1500
	}
	if opts.Family == 0 {
		opts.Family = encap.IPv4
	}
	ifGiven := opts.Interface != ""
	if !ifGiven {
		opts.Interface = "tun0" // checked stand-in; replaced below by the layer's own name
	}
	if opts.Physical == "" {
		opts.Physical = "eth0"
	}
	if err := checkNames(opts); err != nil {
		return nil, err
	}
	if opts.Family != encap.IPv4 && opts.Family != encap.IPv6 {
		return nil, encap.Paramf("family", "family %d: want ipv4 or ipv6", opts.Family)
	}
	if err := encap.CheckLinkMTU(opts.LinkMTU); err != nil {
		return nil, encap.Paramf("mtu", "mtu: %w", err)
	}
	if opts.Packet < 0 || opts.Packet > 65535 {
		return nil, encap.Paramf("packet", "packet %d: want 1..65535", opts.Packet)
	}
	st, err := encap.Parse(opts.Stack)
	if err != nil {
		return nil, encap.Paramf("stack", "stack: %w", err)
	}
	sol, err := st.Solve(opts.LinkMTU)
	if err != nil {
		return nil, encap.Paramf("stack", "stack: %w", err)
	}
	names := ifNames{linux: opts.Interface, routerOS: opts.Interface, vyos: opts.Interface}
	if !ifGiven {
		names = defaultIfNames(st, opts.Physical)
		opts.Interface = names.linux
	}
	t := sol.TunnelMTU
	r := &Report{
		Stack:     st.String(),
		LinkMTU:   opts.LinkMTU,
		TunnelMTU: t,
		Layers:    sol.Layers,
		Overhead:  Overhead{Min: sol.OverheadMin, Max: sol.OverheadMax, AtMTU: sol.AtMTU, Slack: sol.Slack},
	}
	if r.Layers == nil {
		r.Layers = []encap.LayerMTU{}
	}
	r.Overhead.For1500 = linkFor(st, 1500)
	r.MSS.IPv4 = mss.ForMTU(t, encap.IPv4)
	if t >= 1280 {
		r.MSS.IPv6 = mss.ForMTU(t, encap.IPv6)
	}
	r.Arithmetic = arithmetic(st, r)
	ob := optionBytes(opts.TCP)
	r.Payload = Payload{Options: optionsText(opts.TCP), OptionBytes: ob,
		IPv4: max(r.MSS.IPv4-ob, 0), IPv4Timestamps: max(r.MSS.IPv4-12, 0)}
	if r.MSS.IPv6 > 0 {
		r.Payload.IPv6, r.Payload.IPv6Timestamps = max(r.MSS.IPv6-ob, 0), r.MSS.IPv6-12
	}
	r.Status, r.StatusReason = status(t, opts.LinkMTU)
	r.Efficiency = efficiency(st, t, opts)
	r.Blueprint, err = blueprint(st, t, opts)
	if err != nil {
		return nil, err
	}
	if opts.Packet > 0 {
		w, err := st.WireSize(opts.Packet, opts.LinkMTU)
		if err != nil {
			return nil, err
		}
		f, err := st.Breakdown(opts.Packet, opts.LinkMTU)
		if err != nil {
			return nil, err
		}
		r.Packet = &PacketReport{Inner: opts.Packet, Wire: w, Fits: w <= opts.LinkMTU, Fields: f}
	}
	if preset != nil {
		r.Preset = presetCheck(*preset)
	}
	r.Warnings = warnings(st, r, opts)
	r.Clamp = vendorConfigs(st, r, opts, names)
	return r, nil
}

// linkFor is the smallest link MTU on which the stack carries inner
// packets of inner bytes; 0 if none up to 65535 does.
func linkFor(st *encap.Stack, inner int) int {
	lo, hi := encap.MinLinkMTU, encap.MaxLinkMTU
	if t, err := st.TunnelMTU(hi); err != nil || t < inner {
		return 0
	}
	for lo < hi { // TunnelMTU is monotone in the link MTU
		mid := (lo + hi) / 2
		if t, err := st.TunnelMTU(mid); err == nil && t >= inner {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func status(t, link int) (string, string) {
	switch {
	case t < 576:
		return StatusCritical, fmt.Sprintf("tunnel MTU %d is below 576: the IPv4 MSS %d is under the 536 a host assumes without an MSS option (RFC 9293 §3.7.1), and IPv6 and QUIC cannot run", t, max(t-40, 0))
	case t < 1280:
		return StatusCritical, fmt.Sprintf("tunnel MTU %d is below 1280: IPv6 cannot run over it (RFC 8200 §5) and QUIC needs 1228 (IPv4) / 1248 (IPv6)", t)
	case t < link:
		return StatusNeedsClamp, fmt.Sprintf("the stack takes %d bytes of the %d-byte link: clamp the MSS and set the tunnel MTU to %d, or rely on PMTUD (broken wherever ICMP is filtered)", link-t, link, t)
	default:
		return StatusOptimal, fmt.Sprintf("nothing is taken from the %d-byte link MTU: hosts' own MSS (%d IPv4) fits", link, t-40)
	}
}

func efficiency(st *encap.Stack, t int, opts Options) Efficiency {
	f := segmentFamily(st, t, opts)
	wire, _ := st.WireSize(t, opts.LinkMTU)
	hdr := f.HeaderLen() + mss.TCPHeaderLen + optionBytes(opts.TCP)
	pay := max(t-hdr, 0)
	e := Efficiency{Family: f.String(), WireBytes: wire, PayloadBytes: pay, HeaderBytes: t - pay, EncapBytes: wire - t}
	e.Payload = round4(float64(e.PayloadBytes) / float64(wire))
	e.Headers = round4(float64(e.HeaderBytes) / float64(wire))
	e.Encapsulation = round4(float64(e.EncapBytes) / float64(wire))
	return e
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }

// segmentFamily is the family of the full-size segment that efficiency and
// the blueprint lay out: --family, but IPv4 below 1280, and the family of
// an innermost transport-mode ESP/AH layer, which protects that very packet.
func segmentFamily(st *encap.Stack, t int, opts Options) encap.Family {
	f := opts.Family
	if n := len(st.Layers); n > 0 && st.Layers[n-1].Keep > 0 {
		f = st.Layers[n-1].Outer
	}
	if f == encap.IPv6 && t < 1280 {
		f = encap.IPv4
	}
	return f
}

// PresetCheck is a preset's published figure beside mtukit's own.
type PresetCheck struct {
	encap.Preset
	// Computed is mtukit's value of Published.Quantity for the preset.
	Computed int `json:"computed"`
}

func presetCheck(p encap.Preset) *PresetCheck {
	got, _ := p.Computed() // the stack solved already
	return &PresetCheck{Preset: p, Computed: got}
}
