package capture

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Event is a finding handed out by a Stream as soon as its evidence is
// complete, before the report.
type Event struct {
	// Time is when the evidence was complete: the capture time of the
	// latest packet, or the clock of the latest Tick (Unix ns).
	Time    int64
	Finding Finding
}

// eventJSON is an Event's JSON line: {"time": RFC 3339, "finding": {...}}.
type eventJSON struct {
	Time    string   `json:"time"`
	Finding *Finding `json:"finding"`
}

// MarshalJSON writes the event as {"time": "...", "finding": {...}}, the
// finding as the report's JSON has it.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventJSON{Time: time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano), Finding: &e.Finding})
}

// WriteText prints the event as the text report prints a finding, its
// first line after the time of day (UTC).
func (e Event) WriteText(w io.Writer) error {
	var b strings.Builder
	e.Finding.writeText(&b, time.Unix(0, e.Time).UTC().Format("15:04:05.000")+" ")
	_, err := io.WriteString(w, b.String())
	return err
}

// StreamOptions tune a Stream. The zero value is ready to use.
type StreamOptions struct {
	Options
	// Idle finishes a flow (its findings are handed out, its memory
	// freed) after this long without a packet: default 2 minutes.
	Idle time.Duration
	// Closed finishes a flow this long after both sides closed it (FIN or
	// RST): default 5 seconds.
	Closed time.Duration
	// Quiet is how long a black-hole candidate must stay unacknowledged
	// after its latest retransmission before it is told: default the
	// larger of 4 round trips (as the handshake showed them) and 200 ms.
	Quiet time.Duration
}

func (o *StreamOptions) defaults() {
	o.Options.defaults()
	if o.Idle <= 0 {
		o.Idle = 2 * time.Minute
	}
	if o.Closed <= 0 {
		o.Closed = 5 * time.Second
	}
	if o.Quiet <= 0 {
		o.Quiet = 200 * time.Millisecond
	}
}

// Stream runs the analysis over packets as they arrive (a live interface,
// a capture read from a pipe) and hands out each finding as soon as its
// evidence is complete, so a program can act before the capture ends:
//
//   - a black hole when a full-size segment was sent at least 3 times with
//     back-off and stayed unacknowledged for Quiet after the latest
//     resend, while everything else the batch analysis requires holds
//     (the handshake seen, no PTB, the peer not closed nor its window
//     shut, smaller packets shown to pass); the same test as the report's,
//     on the stall still open;
//   - every other finding of a flow when the flow ends: both sides closed
//     it (Closed later), it was idle for Idle, or the flow table was full;
//   - findings about the whole capture (fragments, PTBs for flows not
//     seen, merged offload and option notes) in the report only.
//
// The report at the end is the analysis of everything seen, as Analyze
// makes it: it is the verdict. A black hole told early whose flow later
// delivers full-size segments is not in it.
//
// Memory stays bounded for a stream of any length: MaxFlows flows, idle
// ones finished, and MaxFindings findings per code kept for the report
// (all are handed out).
type Stream struct {
	a     *Analyzer
	opt   StreamOptions
	emit  func(Event)
	now   int64
	limit int // findings kept per code for the report

	pending  map[*flow]struct{} // flows with a stall that may be a black hole
	told     map[string]*flow   // directions whose black hole was told early
	scratch  pathMTU
	kept     []Finding
	keptPer  map[string]int
	keptOmit map[string]int
	checked  int64 // s.now at the last check of pending stalls
	expired  int64 // s.now at the last expiry scan
}

// NewStream returns a Stream that calls emit (from the goroutine that
// feeds it) with each finding as soon as its evidence is complete.
func NewStream(opt StreamOptions, emit func(Event)) *Stream {
	opt.defaults()
	inner := opt.Options
	inner.MaxFindings = 1 << 30 // the stream keeps its own, per code
	return &Stream{
		a: NewAnalyzer(inner), opt: opt, emit: emit, limit: opt.MaxFindings,
		pending: map[*flow]struct{}{}, told: map[string]*flow{},
		keptPer: map[string]int{}, keptOmit: map[string]int{},
	}
}

// SetFormat names the input format in the report ("pcap", "live").
func (s *Stream) SetFormat(f string) { s.a.format = f }

// Packets is how many packets the stream has analyzed.
func (s *Stream) Packets() int64 { return s.a.packets }

// Flows is how many TCP flows are tracked now.
func (s *Stream) Flows() int { return s.a.flows.n }

// Packet analyzes one frame captured at time (Unix ns), wireLen bytes on
// the wire, then hands out what became complete.
func (s *Stream) Packet(link layers.LinkType, data []byte, time int64, wireLen int, point uint64) {
	a := s.a
	// the clock first: what the silence until this packet completed
	// (a black hole's quiet time) is told before the packet changes it
	s.now = max(s.now, time)
	s.tick()
	a.FeedPacket(link, data, a.packets+1, time, wireLen, point)
	if f := a.last; f != nil {
		for di := range f.d {
			if r := f.d[di].r; r != nil && (r.st.active && r.st.tx >= 3 || r.bh.tx >= 3) {
				s.pending[f] = struct{}{}
			}
		}
	}
	s.collect()
}

// Tick tells the stream the time (Unix ns) when no packet comes: a black
// hole is exactly the silence after a retransmission, so a live reader
// calls it every fraction of a second.
func (s *Stream) Tick(now int64) {
	s.now = max(s.now, now)
	s.tick()
}

func (s *Stream) tick() {
	if s.now-s.checked >= int64(20*time.Millisecond) && len(s.pending) > 0 {
		s.checked = s.now
		s.check()
	}
	if s.now-s.expired >= int64(time.Second) {
		s.expired = s.now
		s.expire()
	}
}

// ReadCapture analyzes the capture (pcap or pcapng, gzip allowed) in r as
// it arrives, until r ends; stop, when it returns true between packets,
// ends it early. The stream's report covers what was read.
func (s *Stream) ReadCapture(r io.Reader, stop func() bool) error {
	src, err := openSource(r)
	if err != nil {
		return err
	}
	s.a.format = src.format()
	var rec record
	for stop == nil || !stop() {
		if err := src.next(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return readError(s.a.packets+1, err)
		}
		s.Packet(rec.link, rec.data, rec.nanos, rec.wireLen, rec.point)
	}
	return nil
}

// inTable reports whether f is still in the flow table (not finished).
func (s *Stream) inTable(f *flow) bool {
	k := &f.key
	g, _ := s.a.flows.get(f.hash, k.fam, &k.a, &k.b, k.pa, k.pb)
	return g == f
}

// check tells the black holes whose evidence is now complete.
func (s *Stream) check() {
	a := s.a
	for f := range s.pending {
		if !s.inTable(f) {
			delete(s.pending, f)
			continue
		}
		open := false
		for di := range f.d {
			r := f.d[di].r
			if r == nil {
				continue
			}
			name := f.dirName(di)
			if _, done := s.told[name]; done {
				continue
			}
			var cand *stall
			switch {
			case r.st.active && r.st.tx >= 3:
				open = true
				quiet := max(int64(s.opt.Quiet), 4*f.rtt)
				if s.now-r.st.prev < quiet {
					continue // an acknowledgment may still be on its way
				}
				cand = &r.st
			case r.bh.tx >= 3:
				cand = &r.bh
			default:
				continue
			}
			fd, ok := a.blackholeIn(f, di, cand, &s.scratch)
			if !ok {
				continue
			}
			fd.Flow = name
			if fd.Packets == nil {
				fd.Packets = []int64{}
			}
			s.told[name] = f
			s.emit(Event{Time: s.now, Finding: fd})
		}
		if !open {
			delete(s.pending, f)
		}
	}
}

// collect hands out the findings the analyzer made since the last call
// (flows finished), less black holes told early, and keeps them for the
// report within the per-code limit.
func (s *Stream) collect() {
	a := s.a
	if len(a.findings) == 0 {
		return
	}
	for _, fd := range a.findings {
		if fd.Code == CodeBlackhole {
			if _, done := s.told[fd.Flow]; done {
				delete(s.told, fd.Flow)
				s.keep(fd)
				continue
			}
		}
		s.emit(Event{Time: s.now, Finding: fd})
		s.keep(fd)
	}
	clear(a.findings)
	a.findings = a.findings[:0]
	clear(a.perCode)
}

func (s *Stream) keep(fd Finding) {
	if s.keptPer[fd.Code] >= s.limit {
		s.keptOmit[fd.Code]++
		return
	}
	s.keptPer[fd.Code]++
	s.kept = append(s.kept, fd)
}

// expire finishes the flows that ended (closed on both sides, or idle).
func (s *Stream) expire() {
	a := s.a
	var done []*flow
	a.flows.each(func(f *flow) {
		idle := time.Duration(s.now - f.lastTime)
		closed := (f.d[0].fin || f.d[0].rst) && (f.d[1].fin || f.d[1].rst) || f.d[0].rst || f.d[1].rst
		if idle >= s.opt.Idle || closed && idle >= s.opt.Closed {
			done = append(done, f)
		}
	})
	for _, f := range done {
		a.finishFlow(f)
		a.flows.remove(f)
		delete(s.pending, f)
	}
	if len(done) > 0 {
		a.last = nil
	}
	s.collect()
	// black holes told early whose flow ended without one
	for name, f := range s.told {
		if !s.inTable(f) {
			delete(s.told, name)
		}
	}
}

// Report finishes the analysis and returns the report of everything the
// stream saw. Findings already handed out are in it (within MaxFindings
// per code); the ones the end makes are not handed out: the report has
// them. Call it once, after the last packet.
func (s *Stream) Report() *Report {
	a := s.a
	s.collect()
	a.findings = s.kept
	a.perCode = s.keptPer
	for c, n := range s.keptOmit {
		a.omitted[c] += n
	}
	a.opt.MaxFindings = s.limit
	return a.Report()
}
