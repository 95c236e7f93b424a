package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/mtukit/mtukit/plpmtud"
)

// Methods.
const (
	MethodICMP = "icmp"
	MethodUDP  = "udp"
	MethodTCP  = "tcp"
)

// Socket modes (Options.Socket).
const (
	SocketAuto     = ""         // raw when permitted, else errqueue
	SocketRaw      = "raw"      // raw sockets (root or CAP_NET_RAW)
	SocketErrqueue = "errqueue" // no privilege: ping socket / IP_RECVERR
)

// ipv6MinMTU is the MTU every IPv6 link must carry (RFC 8200 §5).
const ipv6MinMTU = 1280

// DefaultPort is the responder's default UDP and TCP port (RFC 4821's number).
const DefaultPort = 4821

// Options configure a probe run. Zero fields take the defaults noted.
type Options struct {
	Target string     // as the user wrote it (for the report)
	Addr   netip.Addr // the resolved destination
	Method string     // icmp (default), udp or tcp
	Search string     // plpmtud strategy name; plpmtud.Default when empty
	// Min is the size assumed to work (checked with a probe in the first
	// round; 1200 for IPv4 as RFC 8899's BASE_PLPMTU, 1280 for IPv6).
	Min int
	// Max is the largest size probed (the outgoing interface MTU).
	Max     int
	Timeout time.Duration // probe timer; 1s
	Retries int           // lost probes of one size before it counts as too big (MAX_PROBES); 3
	// PTBConfirm is the number of valid PTBs reporting the same MTU before
	// the mtukit search takes it as an upper bound (plpmtud.Config); 1.
	PTBConfirm int
	Rate       float64 // probes per second at most; 50
	Port       int     // responder port (udp, tcp); DefaultPort
	Token      []byte  // shared token for the responder (udp)
	Stack      string  // tunnel stack the advice is for ("" a plain link)
	Socket     string  // SocketAuto, SocketRaw, SocketErrqueue
	// Hops locates, after the search, the hop where packets above the
	// path MTU die (TTL bisection; icmp method with a raw socket).
	Hops bool
	// MaxDuration bounds the whole run; 2 minutes.
	MaxDuration time.Duration
	// Progress, when set, is called after every probe outcome.
	Progress func(Progress)
	// Prior is a remembered answer for this path (prior.go): the search
	// first re-validates it with at most two probes.
	Prior Prior
}

// Progress is the live state of a run.
type Progress struct {
	Sent, Acked, Lost, PTB int
	Estimate               int
	Last                   string // "ack 1400", "loss 1500", "ptb 1500->1400"
}

// ErrMinLost is returned when even the Min-size probe is never acknowledged.
var ErrMinLost = errors.New("no probe was acknowledged, not even the minimum size")

// event is what a transport reports.
type event struct {
	ack  bool
	seq  uint32
	size int  // ack: the size the peer saw (0: unknown)
	ptb  PTB  // when !ack; Payload is a private copy
	te   bool // a time exceeded (quote in ptb), for --hops
	// fragKnown (ack): the transport sees fragments; frag is then the
	// largest fragment of the probe (udp) or of its answer (icmp), 0 when
	// it came whole.
	fragKnown bool
	frag      int
	from      netip.Addr // the sender of an ICMP message (raw sockets only)
	err       error
}

// transport sends probes for one method and reports events.
type transport interface {
	send(seq uint32, size int) error
	events() <-chan event
	// quote is what a PTB must quote to be about probe (seq, size).
	quote(seq uint32, size int) Quote
	socket() string
	maxSize() int // the outgoing interface MTU (0: unknown)
	close() error
}

type inflight struct {
	seq      uint32
	size     int
	deadline time.Time
	confirm  bool // the driver's own check of Min, not the strategy's
	frag     bool // the driver's probe without DF, not the strategy's
}

// fragProber is a transport that can send one probe without DF (IPv4)
// and see the largest fragment: of the probe as the peer received it
// (fragPath "forward") or of the answer (fragPath "reverse"); "" when it
// cannot see fragments.
type fragProber interface {
	sendNoDF(seq uint32, size int) error
	fragPath() string
}

func (o *Options) defaults() error {
	if !o.Addr.IsValid() {
		return errors.New("no destination address")
	}
	o.Addr = o.Addr.Unmap()
	if o.Method == "" {
		o.Method = MethodICMP
	}
	switch o.Method {
	case MethodICMP, MethodUDP, MethodTCP:
	default:
		return fmt.Errorf("method %q: want icmp, udp or tcp", o.Method)
	}
	if o.Search == "" {
		o.Search = plpmtud.Default
	}
	if _, ok := plpmtud.Lookup(o.Search); !ok {
		return fmt.Errorf("search %q: not a strategy (have %v)", o.Search, plpmtud.Names())
	}
	if o.Min == 0 {
		o.Min = 1200
		if o.Addr.Is6() {
			o.Min = 1280
		}
	}
	least := 68
	if o.Addr.Is6() {
		least = 1280
	}
	if o.Min < least {
		return fmt.Errorf("min %d: below the %d bytes every %s path carries", o.Min, least, familyName(o.Addr))
	}
	if o.Max != 0 && o.Max < o.Min {
		return fmt.Errorf("max %d below min %d", o.Max, o.Min)
	}
	if o.Max > 65535 {
		return fmt.Errorf("max %d: above 65535", o.Max)
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Rate <= 0 {
		o.Rate = 50
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("port %d: want 1..65535", o.Port)
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = 2 * time.Minute
	}
	switch o.Socket {
	case SocketAuto, SocketRaw, SocketErrqueue:
	default:
		return fmt.Errorf("socket %q: want raw or errqueue", o.Socket)
	}
	return nil
}

func familyName(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// Run measures the path MTU to o.Addr. On cancellation (Ctrl-C) or when
// MaxDuration passes it returns the report so far with the error.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &Report{Target: o.Target, Addr: o.Addr.String(), Family: familyName(o.Addr), Method: o.Method, Search: o.Search}
	if rep.Target == "" {
		rep.Target = rep.Addr
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxDuration)
	defer cancel()

	if o.Hops && o.Method != MethodICMP {
		return nil, errors.New("the hop search works only with the icmp method")
	}
	if o.Method == MethodTCP {
		if err := tcpMSS(ctx, &o, rep); err != nil {
			return nil, err
		}
	}
	var tr transport
	var err error
	switch o.Method {
	case MethodICMP:
		tr, err = newICMPTransport(&o)
	default:
		tr, err = newUDPTransport(&o)
	}
	if err != nil {
		return nil, err
	}
	defer tr.close()
	return search(ctx, tr, o, rep, start)
}

// search runs the strategy (resumed when verification shows it was misled
// by loss), the black hole verdict, --hops and the advice over tr.
func search(ctx context.Context, tr transport, o Options, rep *Report, start time.Time) (*Report, error) {
	var err error
	rep.Socket = tr.socket()
	if o.Max == 0 {
		o.Max = tr.maxSize()
		if o.Max == 0 {
			o.Max = 1500
		}
		if o.Max < o.Min {
			return nil, fmt.Errorf("the outgoing interface MTU %d is below min %d", o.Max, o.Min)
		}
	}
	rep.Min, rep.Max = o.Min, o.Max
	st := newRunState()
	lo := o.Min
	var s plpmtud.Strategy
	for round := 0; ; round++ {
		cfg := plpmtud.Config{Min: lo, Max: o.Max, MaxProbes: o.Retries, PTBConfirm: o.PTBConfirm}
		if round == 0 {
			cfg.Known = o.Prior.known(o.Min, o.Max)
		}
		s, err = plpmtud.New(o.Search, cfg)
		if err != nil {
			return nil, err
		}
		sub := o
		sub.Min = lo
		err = drive(ctx, s, tr, &sub, rep, start, st)
		rep.PMTU = max(rep.PMTU, s.Estimate())
		rep.State = s.State().String()
		rep.Capped = rep.Capped || s.Capped()
		if o.Prior.confirmed(s, rep, err == nil && rep.PMTU < o.Max && st.ackedMax > 0 && st.usedPTB == 0) {
			break
		}
		if err != nil || rep.PMTU >= o.Max || st.ackedMax == 0 {
			break
		}
		// Tell a black hole from random loss by retries: the smallest size
		// above the estimate that was lost must be lost Retries times in
		// all. If it gets through instead, the search was misled by loss:
		// it resumes from that acknowledged size (at most 3 times).
		s1 := 0
		for size := range st.lost {
			if size > rep.PMTU && (s1 == 0 || size < s1) {
				s1 = size
			}
		}
		if s1 == 0 {
			break // everything above was refused by valid PTBs
		}
		var passed bool
		passed, err = verify(ctx, tr, &o, rep, start, st, s1)
		if err != nil {
			break
		}
		if !passed {
			// No valid PTB explains why s1 vanishes (none came, or they
			// name an MTU that s1 fits).
			rep.Blackhole = st.usedPTB == 0 || s1 <= rep.PTBMTU
			break
		}
		rep.PMTU = s1
		if round == 3 || s1 >= o.Max {
			break
		}
		lo = s1
	}
	rep.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		return rep, err
	}
	rep.IPv6Minimum = st.floor && rep.PMTU == ipv6MinMTU && st.ackedMax < ipv6MinMTU
	if rep.ProbesAcked == 0 && !rep.IPv6Minimum {
		rep.PMTU = 0
		return rep, ErrMinLost
	}
	if o.Hops && rep.PMTU < o.Max {
		h, err := locate(ctx, tr, &o, rep.PMTU+1)
		if err != nil {
			return rep, err
		}
		rep.Hops = h
	}
	if err := rep.recommend(o.Stack); err != nil {
		return rep, err
	}
	return rep, nil
}

// runState is what the driver learns over a run, across resumed searches.
type runState struct {
	lost     map[int]int // lost probes per size
	ackedMax int         // largest acknowledged size
	usedPTB  int         // valid PTBs given to a strategy
	seq      uint32
	fragDone bool // the probe without DF was sent (once per run)
	// floor: a valid PTB named 1280 on IPv6 with Min 1280, so the path
	// MTU is 1280 by RFC 8200 §5 (no link is smaller) without an ack.
	floor bool
}

func newRunState() *runState {
	return &runState{lost: map[int]int{}, seq: uint32(rand.N(1 << 14))} // ICMP carries 16 bits of sequence; a run sends far fewer than 2^15 probes
}

// drive runs the strategy against the transport in real time. The
// strategy decides every size; drive only adds a check that Min really
// passes, for strategies that take it for granted and end on Min without
// any acknowledgement, so a path below Min is an error, not an overshoot.
func drive(ctx context.Context, s plpmtud.Strategy, tr transport, o *Options, rep *Report, start time.Time, st *runState) error {
	d := &driver{ctx: ctx, s: s, tr: tr, o: o, rep: rep, start: start, st: st,
		gap:       time.Duration(float64(time.Second) / o.Rate),
		confirmed: s.State() == plpmtud.Base, // the strategy confirms Min itself
		limit:     s.Bound() + 2*o.Retries + 3,
	}
	d.hinter, _ = s.(plpmtud.Hinter)
	d.fp, _ = tr.(fragProber)
	// After the first probe lost without a PTB, one probe of Max without DF
	// (IPv4) tells the strategy where the MTU likely is: routers fragment
	// it, ICMP or not. Only for strategies that take hints.
	d.fragWanted = d.hinter != nil && d.fp != nil && d.fp.fragPath() != "" && o.Addr.Is4()
	return d.run()
}

// driver is one run of drive: the probes in flight and what the loop
// needs between events. onAck, onPTB and onTimeout are the three outcomes
// of a probe.
type driver struct {
	ctx   context.Context
	s     plpmtud.Strategy
	tr    transport
	o     *Options
	rep   *Report
	start time.Time
	st    *runState

	hinter     plpmtud.Hinter
	fp         fragProber
	fragWanted bool
	flying     []inflight
	lastSend   time.Time
	gap        time.Duration // between sends, from o.Rate
	limit      int           // most probes a search may send
	// confirmed: Min is known to pass (the strategy confirms it, a larger
	// probe was acknowledged, or the driver's own check was).
	confirmed    bool
	confirmTries int
}

func (d *driver) now() time.Duration { return time.Since(d.start) }

func (d *driver) progress(last string) {
	if d.o.Progress != nil {
		r := d.rep
		d.o.Progress(Progress{Sent: r.ProbesSent, Acked: r.ProbesAcked, Lost: r.ProbesLost, PTB: r.PTBReceived, Estimate: d.s.Estimate(), Last: last})
	}
}

func (d *driver) run() error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if err := d.confirmMin(); err != nil {
			return err
		}
		// The strategy waits while the probe without DF is out, so that its
		// hint shapes the next probes.
		for d.rep.ProbesSent < d.limit && !slices.ContainsFunc(d.flying, func(f inflight) bool { return f.frag }) {
			size, ok := d.s.Next(d.now())
			if !ok {
				break
			}
			if err := d.send(size, false, false); err != nil {
				return err
			}
		}
		if len(d.flying) == 0 {
			if (d.s.Done() && d.confirmed) || d.rep.ProbesSent >= d.limit {
				return nil
			}
			return fmt.Errorf("search %s stalled with nothing in flight", d.o.Search)
		}
		// Wait for the next outcome: an event or the earliest deadline.
		next := d.flying[0].deadline
		for _, f := range d.flying[1:] {
			if f.deadline.Before(next) {
				next = f.deadline
			}
		}
		timer.Reset(max(time.Until(next), 0))
		var err error
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-timer.C:
			err = d.onTimeout()
		case ev := <-d.tr.events():
			switch {
			case ev.err != nil:
				err = ev.err
			case ev.ack:
				d.onAck(ev)
			default:
				d.onPTB(ev)
			}
		}
		if err != nil {
			return err
		}
	}
}

// confirmMin sends the driver's own probe of Min when the strategy is done
// without Min confirmed. A strategy that takes Min for granted reports Min
// when nothing larger passed; only then is Min itself checked, so a path
// below Min is an error, never an overshoot (a larger acknowledged probe
// already shows that Min passes).
func (d *driver) confirmMin() error {
	if !d.confirmed && d.st.ackedMax >= d.o.Min {
		d.confirmed = true
	}
	if d.confirmed || !d.s.Done() || slices.ContainsFunc(d.flying, func(f inflight) bool { return f.confirm }) {
		return nil
	}
	if d.confirmTries >= d.o.Retries {
		return ErrMinLost
	}
	d.confirmTries++
	return d.send(d.o.Min, true, false)
}

// send sends one probe, paced by o.Rate; frag sends it without DF.
func (d *driver) send(size int, confirm, frag bool) error {
	if wait := time.Until(d.lastSend.Add(d.gap)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-d.ctx.Done():
			t.Stop()
			return d.ctx.Err()
		case <-t.C:
		}
	}
	d.st.seq++
	send := d.tr.send
	if frag {
		send = d.fp.sendNoDF
	}
	if err := send(d.st.seq, size); err != nil {
		return fmt.Errorf("send %d-byte probe: %w", size, err)
	}
	d.lastSend = time.Now()
	d.rep.ProbesSent++
	d.flying = append(d.flying, inflight{seq: d.st.seq, size: size, deadline: d.lastSend.Add(d.o.Timeout), confirm: confirm, frag: frag})
	return nil
}

// finish takes probe i out of flight.
func (d *driver) finish(i int) inflight {
	f := d.flying[i]
	d.flying = append(d.flying[:i], d.flying[i+1:]...)
	return f
}

// onTimeout counts the probes past their deadline as lost; after the
// first loss it may send the probe without DF.
func (d *driver) onTimeout() error {
	t := time.Now()
	lostOne := false
	for i := 0; i < len(d.flying); {
		if d.flying[i].deadline.After(t) {
			i++
			continue
		}
		f := d.finish(i)
		d.rep.ProbesLost++
		if f.confirm || f.frag {
			continue
		}
		d.st.lost[f.size]++
		lostOne = true
		d.s.OnLoss(f.size, d.now())
		d.progress(fmt.Sprintf("loss %d", f.size))
	}
	if lostOne && d.fragWanted && !d.st.fragDone && !d.s.Done() {
		d.st.fragDone = true
		return d.send(d.o.Max, false, true)
	}
	return nil
}

// onAck gives an acknowledged probe to the strategy (or, for the driver's
// own probes, to the Min check and the fragment hint).
func (d *driver) onAck(ev event) {
	i := indexSeq(d.flying, ev.seq)
	if i < 0 || (ev.size != 0 && ev.size != d.flying[i].size) {
		return // late (already counted lost) or not ours
	}
	f := d.finish(i)
	d.rep.ProbesAcked++
	if f.frag {
		fragHint(d.hinter, d.fp, ev, f.size, d.rep)
		return
	}
	d.st.ackedMax = max(d.st.ackedMax, f.size)
	if f.confirm {
		d.confirmed = true
		return
	}
	d.s.OnAck(f.size, d.now())
	d.progress(fmt.Sprintf("ack %d", f.size))
}

// onPTB gives a PTB that quotes a strategy's probe in flight, with a usable
// MTU, to the strategy; every other PTB is counted as ignored.
func (d *driver) onPTB(ev event) {
	o, rep := d.o, d.rep
	if ev.te || ev.ptb.Dst != o.Addr {
		return // a late time exceeded, or other traffic (a raw socket sees every PTB)
	}
	rep.PTBReceived++
	i := -1
	for j, f := range d.flying {
		q := d.tr.quote(f.seq, f.size)
		if ev.ptb.Matches(&q) {
			i = j
			break
		}
	}
	if i < 0 || !ev.ptb.Usable(d.flying[i].size, o.Min) || d.flying[i].confirm || d.flying[i].frag {
		rep.PTBIgnored++
		return
	}
	f := d.finish(i)
	d.st.usedPTB++
	if rep.PTBMTU == 0 || ev.ptb.MTU < rep.PTBMTU {
		rep.PTBMTU = ev.ptb.MTU
		if ev.from.IsValid() {
			rep.PTBFrom = ev.from.String()
		}
	}
	if o.Addr.Is6() && o.Min == ipv6MinMTU && ev.ptb.MTU == ipv6MinMTU {
		// Every IPv6 link carries 1280 bytes (RFC 8200 §5; RFC 8201
		// §4: never go below it): the PTB pins the path MTU, and
		// checking Min with a probe would only cost one.
		d.st.floor, d.confirmed = true, true
	}
	d.s.OnPTB(f.size, ev.ptb.MTU, d.now())
	d.progress(fmt.Sprintf("ptb %d->%d", f.size, ev.ptb.MTU))
}

// fragHint turns the answer to the probe without DF into a hint: the
// largest fragment F names a link MTU in [F, F+7]; a probe that came whole
// crossed the path at its full size.
func fragHint(h plpmtud.Hinter, fp fragProber, ev event, size int, rep *Report) {
	if !ev.fragKnown {
		return
	}
	f := ev.frag
	if f == 0 || f >= size {
		f = size
	}
	rep.FragMax, rep.FragPath = f, fp.fragPath()
	if f == size {
		h.Hint(size, size)
		return
	}
	h.Hint(plpmtud.FragmentHint(f))
}

func indexSeq(fs []inflight, seq uint32) int {
	for i, f := range fs {
		if f.seq == seq {
			return i
		}
	}
	return -1
}

func deadline(ctx context.Context, d time.Duration) time.Time {
	t := time.Now().Add(max(d, 2*time.Second))
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return dl
	}
	return t
}

// verify probes size until it is acknowledged (true) or lost Retries times
// in all, counting the search's own losses of that size (false). A valid
// PTB for it also ends with false (the size is too big, and said so).
func verify(ctx context.Context, tr transport, o *Options, rep *Report, start time.Time, st *runState, size int) (bool, error) {
	for st.lost[size] < o.Retries {
		st.seq++
		if err := tr.send(st.seq, size); err != nil {
			return false, fmt.Errorf("send %d-byte probe: %w", size, err)
		}
		rep.ProbesSent++
		q := tr.quote(st.seq, size)
		timer := time.NewTimer(o.Timeout)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return false, ctx.Err()
			case <-timer.C:
				rep.ProbesLost++
				st.lost[size]++
				break wait
			case ev := <-tr.events():
				switch {
				case ev.err != nil:
					timer.Stop()
					return false, ev.err
				case ev.ack:
					if ev.seq == st.seq && (ev.size == 0 || ev.size == size) {
						timer.Stop()
						rep.ProbesAcked++
						st.ackedMax = max(st.ackedMax, size)
						return true, nil
					}
				case ev.te || ev.ptb.Dst != o.Addr:
				default:
					rep.PTBReceived++
					if !ev.ptb.Matches(&q) || !ev.ptb.Usable(size, o.Min) {
						rep.PTBIgnored++
						continue
					}
					timer.Stop()
					st.usedPTB++
					if rep.PTBMTU == 0 || ev.ptb.MTU < rep.PTBMTU {
						rep.PTBMTU = ev.ptb.MTU
						if ev.from.IsValid() {
							rep.PTBFrom = ev.from.String()
						}
					}
					return false, nil
				}
			}
		}
	}
	return false, nil
}
