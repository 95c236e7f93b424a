package probe

import (
	"fmt"
	"io"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/plpmtud"
)

// Report is what `mtukit probe` prints, as text and (the same struct) as
// JSON. Sizes are IP packet sizes in bytes.
type Report struct {
	Target string `json:"target"`
	Addr   string `json:"addr"`
	Family string `json:"family"`
	Method string `json:"method"`
	Search string `json:"search"`
	// Socket is how probes and PTBs were handled: "raw" (root: raw socket,
	// every PTB seen and validated here) or "errqueue" (unprivileged: the
	// kernel matched PTBs to the socket, IP_RECVERR).
	Socket string `json:"socket"`
	Min    int    `json:"min"`
	Max    int    `json:"max"`

	// PMTU is the largest acknowledged probe: the path MTU (IP packet).
	PMTU int `json:"pmtu"`
	// IPv6Minimum is true when PMTU is 1280 because a valid PTB named the
	// IPv6 minimum link MTU, which every link must carry (RFC 8200 §5), so
	// no probe had to be acknowledged to prove it.
	IPv6Minimum bool `json:"ipv6_minimum,omitempty"`
	// State is the search's RFC 8899 state at the end.
	State string `json:"state"`
	// Capped is true when the search stopped at its probe bound rather than
	// by its own rule (heavy loss or forged PTBs).
	Capped bool `json:"capped"`

	ProbesSent  int `json:"probes_sent"`
	ProbesAcked int `json:"probes_acked"`
	ProbesLost  int `json:"probes_lost"`
	// PTBReceived counts the PTB messages read that concern this path;
	// PTBIgnored those that did not quote a probe in flight or whose MTU
	// was not usable (RFC 8899 §4.6), and were dropped.
	PTBReceived int `json:"ptb_received"`
	PTBIgnored  int `json:"ptb_ignored"`
	// PTBMTU is the smallest next-hop MTU of a PTB that was used (0: none).
	PTBMTU int `json:"ptb_mtu,omitempty"`
	// PTBFrom is the router that sent that PTB (raw sockets only).
	PTBFrom string `json:"ptb_from,omitempty"`

	// FragMax is the largest fragment of the one probe sent without DF
	// (IPv4, after the first probe lost without a PTB): IPv4 routers
	// fragment such a packet instead of dropping it, so a link of MTU m
	// shows as 20+8*floor((m-20)/8) bytes, even behind a black hole. It
	// only steers the search (the answer is still an acknowledged DF
	// probe). FragMax equals the probe size when it came whole. FragPath is
	// "forward" (udp: the responder saw the probe's fragments) or "reverse"
	// (icmp: the echo reply's fragments, cut on the way back).
	FragMax  int    `json:"frag_max,omitempty"`
	FragPath string `json:"frag_path,omitempty"`

	// Revalidated is true when the run confirmed Options.Prior, the
	// remembered answer, with its first round (at most two probes) instead
	// of searching.
	Revalidated bool `json:"revalidated,omitempty"`

	// Blackhole is true when the smallest lost size above PMTU was lost
	// Retries times with no valid PTB to explain it, while PMTU was
	// acknowledged (see the package documentation).
	Blackhole bool `json:"blackhole"`

	// TCP method: the MSS option our SYN carried, the one the responder
	// read from the SYN it received, whether something on the way changed
	// it, and the send MSS our kernel settled on (TCP_MAXSEG).
	MSSSent       int  `json:"mss_sent,omitempty"`
	MSSSeenByPeer int  `json:"mss_seen_by_peer,omitempty"`
	MSSClamped    bool `json:"mss_clamped,omitempty"`
	MSSNegotiated int  `json:"mss_negotiated,omitempty"`

	DurationMS int64 `json:"duration_ms"`

	// Hops is --hops: where packets above the path MTU die.
	Hops *HopReport `json:"hops,omitempty"`

	// Recommended is calc's advice (advise.Calc) for this path MTU.
	Recommended *Recommendation `json:"recommended,omitempty"`
}

// Recommendation is what to configure for the measured path: the tunnel MTU
// of Stack over a link of the path MTU, and the MSS clamp per family, from
// advise.Calc so probe and calc can never disagree.
type Recommendation struct {
	Stack     string     `json:"stack"`
	LinkMTU   int        `json:"link_mtu"`
	TunnelMTU int        `json:"tunnel_mtu"`
	MSS       advise.MSS `json:"mss_clamp"`
	Status    string     `json:"status"`
}

// recommend fills r.Recommended from advise.Calc.
func (r *Report) recommend(stack string) error {
	if r.PMTU <= 0 {
		return nil
	}
	c, err := advise.Calc(advise.Options{Stack: stack, LinkMTU: r.PMTU})
	if err != nil {
		return err
	}
	r.Recommended = &Recommendation{Stack: c.Stack, LinkMTU: r.PMTU, TunnelMTU: c.TunnelMTU, MSS: c.MSS, Status: c.Status}
	return nil
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("mtukit probe %s (%s, %s), method %s, search %s\n", r.Target, r.Addr, r.Family, r.Method, r.Search)
	if r.IPv6Minimum {
		p("  path MTU     %d bytes (IP packet: a valid PTB named the IPv6 minimum, which every link carries, RFC 8200 §5; searched %d..%d)\n", r.PMTU, r.Min, r.Max)
	} else {
		p("  path MTU     %d bytes (IP packet, largest acknowledged probe; searched %d..%d)\n", r.PMTU, r.Min, r.Max)
	}
	p("  probes       %d sent, %d acknowledged, %d lost\n", r.ProbesSent, r.ProbesAcked, r.ProbesLost)
	ptb := fmt.Sprintf("%d packet too big received, %d ignored (forged, mismatched or unusable)", r.PTBReceived, r.PTBIgnored)
	if r.PTBMTU > 0 {
		ptb += fmt.Sprintf("; next-hop MTU %d", r.PTBMTU)
		if r.PTBFrom != "" {
			ptb += " from " + r.PTBFrom
		}
	}
	p("  ICMP         %s\n", ptb)
	if r.FragMax > 0 {
		if r.FragMax >= r.Max {
			p("  fragments    a %d-byte packet without DF crossed the %s path whole\n", r.Max, r.FragPath)
		} else {
			lo, hi := plpmtud.FragmentHint(r.FragMax)
			p("  fragments    a %d-byte packet without DF arrived in fragments of at most %d bytes (%s path): a link MTU of %d..%d\n", r.Max, r.FragMax, r.FragPath, lo, hi)
		}
	}
	if r.Blackhole {
		p("  black hole   YES: packets above %d bytes vanish and no ICMP says why (PMTUD is broken on this path)\n", r.PMTU)
	} else {
		p("  black hole   no\n")
	}
	if r.MSSSent > 0 {
		switch {
		case r.MSSSeenByPeer == 0:
			p("  MSS          our SYN said %d; the responder did not report what it saw\n", r.MSSSent)
		case r.MSSClamped:
			p("  MSS          our SYN said %d, the responder saw %d: a middlebox clamps the MSS; send MSS %d\n", r.MSSSent, r.MSSSeenByPeer, r.MSSNegotiated)
		default:
			p("  MSS          our SYN said %d, the responder saw %d: not clamped; send MSS %d\n", r.MSSSent, r.MSSSeenByPeer, r.MSSNegotiated)
		}
	}
	if h := r.Hops; h != nil {
		switch {
		case h.DropHop > 0:
			p("  hops         %d-byte packets reach hop %d (%s) and die on its next link; the destination is %d hops away (%d probes)\n", h.Size, h.DropHop, h.DropRouter, h.PathHops, h.Probes)
		default:
			p("  hops         could not locate where %d-byte packets die (%s; %d probes)\n", h.Size, h.Note, h.Probes)
		}
	}
	if r.Capped {
		p("  note         the search hit its probe bound (heavy loss or forged ICMP): the answer is a safe lower bound\n")
	}
	p("  duration     %d ms, state %s\n", r.DurationMS, r.State)
	if rec := r.Recommended; rec != nil {
		stack := rec.Stack
		if stack == "" {
			stack = "no tunnel"
		}
		p("configure (%s over this path):\n", stack)
		p("  interface MTU  %d\n", rec.TunnelMTU)
		if rec.MSS.IPv6 > 0 {
			p("  MSS clamp      %d (IPv4), %d (IPv6)\n", rec.MSS.IPv4, rec.MSS.IPv6)
		} else {
			p("  MSS clamp      %d (IPv4); IPv6 cannot run below 1280\n", rec.MSS.IPv4)
		}
	}
	return nil
}
