package tput

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// Request is the input of a throughput report: what `mtukit tput` takes as
// flags and GET /api/v1/tput as query parameters. Start from
// DefaultRequest; Calc validates every field and names the one at fault in
// an *encap.ParamError (Param is the flag / query parameter name).
type Request struct {
	Stack    string        // "stack": encapsulation spec, wire inwards; "" is TCP on the link itself
	LinkMTU  int           // "mtu": IP MTU of the link the stack rides on
	Family   encap.Family  // "family"
	Options  int           // "tcp-options": option bytes on each data segment
	RTT      time.Duration // "rtt"
	Loss     float64       // "loss": segment loss probability in [0, 1)
	Window   string        // "window": receive window in bytes; with WScale >= 0 the 16-bit field
	WScale   int           // "wscale": window scale shift count; -1: none
	Rate     string        // "rate": line rate ("1G")
	MSS      string        // "mss": one MSS or LO:HI[:STEP]; "" sweeps up to the largest that fits
	Model    string        // "model": pftk or mathis
	AckEvery int           // "ack-every"
	MathisC  float64       // "mathis-c": 0 is sqrt(3/(2b))
	RTO      time.Duration // "rto": 0 is RTT + 200ms
	Framing  int           // "framing": bytes per frame outside the IP MTU
	PMTU     string        // "pmtu": an uncertain path MTU distribution (ParseDist)
	Tunnel   string        // "tunnel": an uncertain tunnel type (TunnelTypes)
	TooBig   string        // "too-big": blackhole, pmtud or fragment
	Transfer string        // "transfer": bytes per connection
	Detect   string        // "detect": black-hole detection delay, or never
	Fallback int           // "fallback-mss": 0 is the default
}

// DefaultRequest is the request with every default `mtukit tput` has.
func DefaultRequest() Request {
	return Request{LinkMTU: 1500, Family: encap.IPv4, Options: 12, RTT: 50 * time.Millisecond, WScale: -1, Rate: "1G",
		Model: "pftk", AckEvery: 1, Framing: EthernetFraming, TooBig: "blackhole", Transfer: "10MiB", Detect: "3s"}
}

// Report is the throughput report, as text (WriteText) or JSON: the JSON
// of `mtukit tput --json` and of GET /api/v1/tput.
type Report struct {
	Stack     string  `json:"stack"`
	Family    string  `json:"family"`
	LinkMTU   int     `json:"link_mtu"`
	PathMTU   int     `json:"path_mtu"`
	ClampMSS  int     `json:"clamp_mss"` // calc's clamp: mss.ForMTU(path MTU)
	Rate      Rate    `json:"rate"`
	Framing   int     `json:"framing"`
	Options   int     `json:"tcp_options"`
	RTTms     float64 `json:"rtt_ms"`
	Loss      float64 `json:"loss"`
	Window    int64   `json:"window"`
	WindowHow string  `json:"window_from"`
	Model     string  `json:"loss_model"`
	AckEvery  int     `json:"ack_every"`
	MathisC   float64 `json:"mathis_c"`
	RTOms     float64 `json:"rto_ms"`
	// BDP is the bandwidth-delay product at the line rate: the window the
	// line rate needs, and the smallest window scale that can carry it.
	BDP       int64        `json:"bdp_bytes"`
	BDPScale  int          `json:"bdp_wscale"`
	Rows      []Limits     `json:"rows"`
	Best      int          `json:"recommended_mss"`
	BestRate  Rate         `json:"recommended_goodput"`
	Reason    string       `json:"reason"`
	Uncertain *Uncertainty `json:"uncertainty,omitempty"`
	PlotFile  string       `json:"plot,omitempty"` // set by a front end that drew Plot

	params *Params
	dist   Dist
	cost   Cost
}

// Uncertainty is the best-MSS answer for an uncertain path MTU.
type Uncertainty struct {
	Source    string     `json:"source"`
	Scenarios []Scenario `json:"scenarios"`
	Cost      Cost       `json:"cost"`
	StallMs   float64    `json:"stall_ms"`
	Best      Outcome    `json:"best"`
	Choices   []Outcome  `json:"choices"`
	Expected  []Rate     `json:"expected_per_row"`
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func stackName(s string) string {
	if s == "" {
		return "plain link"
	}
	return s
}

// Calc builds the report for r.
func Calc(r Request) (*Report, error) {
	p, rep, err := r.params()
	if err != nil {
		return nil, err
	}
	lo, hi, step, err := parseMSSSweep(r.MSS, p, rep.PathMTU)
	if err != nil {
		return nil, err
	}
	var d Dist
	switch {
	case r.PMTU != "" && r.Tunnel != "":
		return nil, encap.Paramf("pmtu", "pmtu and tunnel both describe the path MTU: give one")
	case r.PMTU != "":
		if d, err = ParseDist(r.PMTU); err != nil {
			return nil, encap.Paramf("pmtu", "pmtu: %w", err)
		}
	case r.Tunnel != "":
		if d, err = Tunnel(r.Tunnel, p.LinkMTU, p.Stack, p.Family); err != nil {
			return nil, encap.Paramf("tunnel", "tunnel: %w", err)
		}
	default:
		d = Dist{{Prob: 1, PathMTU: rep.PathMTU}}
	}
	cost, err := r.cost(p)
	if err != nil {
		return nil, err
	}
	clampLabel := stackName(r.Stack)
	if r.Tunnel != "" {
		// The table shows the variant with the smallest path MTU (what a
		// cautious calc user would clamp for); "expected" averages them all.
		worst := d[0]
		for _, s := range d {
			if s.PathMTU < worst.PathMTU {
				worst = s
			}
		}
		p.Stack, rep.PathMTU, rep.Stack = worst.Stack, worst.PathMTU, worst.Label+" (smallest of tunnel type "+r.Tunnel+")"
		rep.ClampMSS = mss.ForMTU(worst.PathMTU, p.Family)
		clampLabel = worst.Label
		if r.MSS == "" {
			lo, hi, step, _ = parseMSSSweep("", p, d.MaxPathMTU())
		}
	}
	fit := p.MSSForMTU(rep.PathMTU)
	for m := lo; m <= hi; m += step {
		l, err := p.Evaluate(m)
		if err != nil {
			return nil, encap.Paramf("mss", "mss %d: %v", m, err)
		}
		rep.Rows = append(rep.Rows, l)
		if m < fit && m+step > fit && fit <= hi {
			l, _ := p.Evaluate(fit)
			rep.Rows = append(rep.Rows, l)
		}
	}
	// Search every MSS from the sweep's start (or the smallest that fits
	// the distribution) to the largest of the sweep and the distribution.
	slo := max(min(lo, p.MSSForMTU(d.MinPathMTU())), p.Options+1)
	shi := max(hi, p.MSSForMTU(d.MaxPathMTU()))
	best, all, err := p.Best(d, cost, slo, shi)
	if err != nil {
		return nil, err
	}
	rep.Best, rep.BestRate = best.MSS, best.Expected
	rep.params, rep.dist, rep.cost = p, d, cost
	if r.PMTU == "" && r.Tunnel == "" {
		if best.MSS == fit {
			rep.Reason = fmt.Sprintf("the path MTU is known (%d): every limit grows with the MSS, so the largest MSS that fits wins, MSS %d = %d - %d (RFC 6691), which is calc's clamp", rep.PathMTU, fit, rep.PathMTU, rep.PathMTU-fit)
		} else {
			rep.Reason = fmt.Sprintf("largest goodput over MSS %d..%d", slo, shi)
		}
		return rep, nil
	}
	u, err := uncertainty(r, p, rep, d, cost, best, all, clampLabel)
	if err != nil {
		return nil, err
	}
	rep.Reason = uncertainReason(u, d)
	rep.Uncertain = u
	return rep, nil
}

// uncertainty prices the usual MSS choices against the best over d and
// gives each row of rep its expected goodput.
func uncertainty(r Request, p *Params, rep *Report, d Dist, cost Cost, best Outcome, all []Outcome, clampLabel string) (*Uncertainty, error) {
	u := &Uncertainty{Scenarios: d, Cost: cost, Best: best}
	if r.PMTU != "" {
		u.Source = "measurement " + r.PMTU
	} else {
		u.Source = "tunnel type " + r.Tunnel
	}
	if cost.TooBig == TooBigBlackHole && !cost.Never {
		u.StallMs = ms(Stall(p.T0(), cost.Detect))
	}
	choices := map[string]int{"1460": 1460, "1400": 1400, "1380": 1380, "1360": 1360}
	if m := rep.ClampMSS; m > p.Options {
		choices["calc clamp ("+clampLabel+")"] = m
	}
	var err error
	if u.Choices, err = p.Compare(best, d, cost, choices); err != nil {
		return nil, err
	}
	byMSS := map[int]Rate{}
	for _, a := range all {
		byMSS[a.MSS] = a.Expected
	}
	for _, row := range rep.Rows {
		e, ok := byMSS[row.MSS]
		if !ok {
			oc, err := p.Expected(row.MSS, d, cost)
			if err != nil {
				return nil, err
			}
			e = oc.Expected
		}
		u.Expected = append(u.Expected, e)
	}
	return u, nil
}

// params turns the request into Params and the report's header, naming the
// parameter at fault.
func (r Request) params() (*Params, *Report, error) {
	p := &Params{LinkMTU: r.LinkMTU, Framing: r.Framing, RTT: r.RTT, Loss: r.Loss, AckEvery: r.AckEvery, C: r.MathisC, RTO: r.RTO, Family: r.Family, Options: r.Options}
	if r.Family != encap.IPv4 && r.Family != encap.IPv6 {
		return nil, nil, encap.Paramf("family", "family %d: want ipv4 or ipv6", r.Family)
	}
	if err := encap.CheckLinkMTU(r.LinkMTU); err != nil {
		return nil, nil, encap.Paramf("mtu", "mtu: %w", err)
	}
	if r.Stack != "" {
		st, err := encap.Parse(r.Stack)
		if err != nil {
			return nil, nil, encap.Paramf("stack", "stack: %w", err)
		}
		p.Stack = st
	}
	if r.Options < 0 || r.Options > 40 {
		return nil, nil, encap.Paramf("tcp-options", "tcp-options %d bytes: the TCP header holds 40", r.Options)
	}
	if r.RTT <= 0 {
		return nil, nil, encap.Paramf("rtt", "rtt %v: the round-trip time must be positive", r.RTT)
	}
	if math.IsNaN(r.Loss) || r.Loss < 0 || r.Loss >= 1 {
		return nil, nil, encap.Paramf("loss", "loss %v: want a probability in [0, 1) (0.01 is 1%%)", r.Loss)
	}
	var err error
	if p.Rate, err = ParseRate(r.Rate); err != nil {
		return nil, nil, encap.Paramf("rate", "rate: %w", err)
	}
	if p.Model, err = ParseLossModel(r.Model); err != nil {
		return nil, nil, encap.Paramf("model", "model: %w", err)
	}
	if r.AckEvery < 1 || r.AckEvery > 64 {
		return nil, nil, encap.Paramf("ack-every", "ack-every %d: want 1..64", r.AckEvery)
	}
	if r.MathisC < 0 || math.IsNaN(r.MathisC) || math.IsInf(r.MathisC, 0) {
		return nil, nil, encap.Paramf("mathis-c", "mathis-c %v: want a positive constant", r.MathisC)
	}
	if r.RTO < 0 {
		return nil, nil, encap.Paramf("rto", "rto %v: must not be negative", r.RTO)
	}
	if r.Framing < 0 || r.Framing > 1000 {
		return nil, nil, encap.Paramf("framing", "framing %d: want 0..1000 bytes", r.Framing)
	}
	how := ""
	switch {
	case r.WScale >= 0:
		if r.WScale > MaxWindowScale {
			return nil, nil, encap.Paramf("wscale", "wscale %d: the shift count is 0..14 (RFC 7323)", r.WScale)
		}
		field := int64(65535)
		if r.Window != "" {
			if field, err = ParseBytes(r.Window); err != nil {
				return nil, nil, encap.Paramf("window", "window: %w", err)
			}
		}
		w, err := ScaledWindow(int(min(field, 1<<20)), r.WScale)
		if err != nil {
			return nil, nil, encap.Paramf("window", "window with wscale: %w", err)
		}
		p.Window, how = w, fmt.Sprintf("%d << %d", field, r.WScale)
	case r.WScale != -1:
		return nil, nil, encap.Paramf("wscale", "wscale %d: want a shift count 0..14", r.WScale)
	case r.Window != "":
		if p.Window, err = ParseBytes(r.Window); err != nil {
			return nil, nil, encap.Paramf("window", "window: %w", err)
		}
		how = "--window " + r.Window
	default:
		p.Window, how = int64(65535)<<7, "default 65535 << 7"
	}
	if err := CheckWindow(p.Window); err != nil {
		return nil, nil, encap.Paramf("window", "window: %w", err)
	}
	if err := p.Validate(); err != nil {
		if encap.IsStackError(err) {
			return nil, nil, encap.Paramf("stack", "stack: %w", err)
		}
		return nil, nil, encap.Paramf("mtu", "%v", err)
	}
	pm, _ := p.PathMTU()
	rep := &Report{Stack: stackName(r.Stack), Family: p.Family.String(), LinkMTU: p.LinkMTU, PathMTU: pm,
		ClampMSS: mss.ForMTU(pm, p.Family), Rate: p.Rate, Framing: p.Framing, Options: p.Options,
		RTTms: ms(p.RTT), Loss: p.Loss, Window: p.Window, WindowHow: how, Model: p.Model.String(),
		AckEvery: max(p.AckEvery, 1), MathisC: p.MathisConst(), RTOms: ms(p.T0()), BDP: WindowNeeded(p.Rate, p.RTT)}
	if s, err := ScaleFor(rep.BDP); err == nil {
		rep.BDPScale = s
	} else {
		rep.BDPScale = -1
	}
	return p, rep, nil
}

func (r Request) cost(p *Params) (Cost, error) {
	c := DefaultCost(p.Options)
	var err error
	if c.TooBig, err = ParseTooBig(r.TooBig); err != nil {
		return c, encap.Paramf("too-big", "too-big: %w", err)
	}
	if c.Transfer, err = ParseBytes(r.Transfer); err != nil {
		return c, encap.Paramf("transfer", "transfer: %w", err)
	}
	if c.Transfer <= 0 {
		return c, encap.Paramf("transfer", "transfer %q: must be positive", r.Transfer)
	}
	if r.Detect == "never" {
		c.Never = true
	} else if c.Detect, err = time.ParseDuration(r.Detect); err != nil || c.Detect < 0 {
		return c, encap.Paramf("detect", "detect %q: want a duration such as 3s, or never", r.Detect)
	}
	if r.Fallback != 0 {
		if r.Fallback <= p.Options || r.Fallback > 65495 {
			return c, encap.Paramf("fallback-mss", "fallback-mss %d: want %d..65495", r.Fallback, p.Options+1)
		}
		c.FallbackMSS = r.Fallback
	}
	if c.TooBig == TooBigFragment && p.Family != encap.IPv4 {
		return c, encap.Paramf("too-big", "too-big fragment: IPv6 routers never fragment (RFC 8200); use blackhole or pmtud")
	}
	return c, nil
}

// parseMSSSweep reads the mss parameter: "1400", "1200:1460" or "1200:1460:20".
func parseMSSSweep(s string, p *Params, pathMTU int) (lo, hi, step int, err error) {
	fit := p.MSSForMTU(pathMTU)
	if s == "" {
		hi = fit
		lo = max((fit-260)/20*20, p.Options+1)
		return lo, hi, 20, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, 0, 0, encap.Paramf("mss", "mss %q: want MSS or LO:HI[:STEP]", s)
	}
	nums := make([]int, len(parts))
	for i, x := range parts {
		if nums[i], err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			return 0, 0, 0, encap.Paramf("mss", "mss %q: %q is not a whole number", s, x)
		}
	}
	lo, hi, step = nums[0], nums[0], 1
	if len(nums) >= 2 {
		hi = nums[1]
		step = 20
	}
	if len(nums) == 3 {
		step = nums[2]
	}
	maxMSS := 65535 - p.Family.HeaderLen() - TCPHeader
	switch {
	case lo <= p.Options:
		return 0, 0, 0, encap.Paramf("mss", "mss %d leaves no payload after %d bytes of TCP options", lo, p.Options)
	case hi > maxMSS:
		return 0, 0, 0, encap.Paramf("mss", "mss %d: above %d, the largest MSS an IP packet can carry", hi, maxMSS)
	case lo > hi:
		return 0, 0, 0, encap.Paramf("mss", "mss %q: range runs backwards", s)
	case step < 1:
		return 0, 0, 0, encap.Paramf("mss", "mss %q: step must be at least 1", s)
	case (hi-lo)/step > 5000:
		return 0, 0, 0, encap.Paramf("mss", "mss %q: more than 5000 rows", s)
	}
	return lo, hi, step, nil
}

func uncertainReason(u *Uncertainty, d Dist) string {
	var b strings.Builder
	fmt.Fprintf(&b, "over %d possible path MTUs (%d..%d), MSS %d has the highest expected goodput", len(d), d.MinPathMTU(), d.MaxPathMTU(), u.Best.MSS)
	fmt.Fprintf(&b, " and fits with probability %.3g", u.Best.PFit)
	switch u.Cost.TooBig {
	case TooBigBlackHole:
		if u.Cost.Never {
			b.WriteString("; a larger MSS hangs the connection whenever it does not fit (no black-hole detection)")
		} else {
			fmt.Fprintf(&b, "; a larger MSS stalls %.0f ms in RTOs whenever it does not fit, then runs at MSS %d", u.StallMs, u.Cost.FallbackMSS)
		}
	case TooBigPMTUD:
		b.WriteString("; with working PMTUD a too-large MSS costs only one round trip")
	case TooBigFragment:
		b.WriteString("; a too-large MSS sends every segment as fragments, each lost on its own")
	}
	return b.String()
}

// PlotRows evaluates every MSS of the report's sweep range, one byte apart,
// and, for an uncertain path MTU, each one's expected goodput: the curves a
// chart draws.
func (r *Report) PlotRows() (rows []Limits, expected []Rate, err error) {
	if len(r.Rows) == 0 || r.params == nil {
		return nil, nil, fmt.Errorf("no rows to plot")
	}
	lo, hi := r.Rows[0].MSS, r.Rows[len(r.Rows)-1].MSS
	for m := lo; m <= hi; m++ {
		l, err := r.params.Evaluate(m)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, l)
		if r.Uncertain != nil {
			o, err := r.params.Expected(m, r.dist, r.cost)
			if err != nil {
				return nil, nil, err
			}
			expected = append(expected, o.Expected)
		}
	}
	return rows, expected, nil
}
