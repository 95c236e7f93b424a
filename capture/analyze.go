package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gopacket/gopacket/layers"
)

// Options tune an analysis. The zero value is ready to use.
type Options struct {
	// Name is the file name the report shows.
	Name string
	// MaxFlows bounds the TCP flow table (default 50000). When it is full,
	// the least recently active eighth of the flows is finished and dropped.
	MaxFlows int
	// MaxFragments bounds the IP datagrams under reassembly (default 1024).
	MaxFragments int
	// FlowTable is how many flows the report lists (default 1000; flows
	// with findings first, then the busiest).
	FlowTable int
	// MaxFindings bounds the findings of one code in the report (default
	// 50); the rest are counted in Report.Omitted.
	MaxFindings int
	// Progress, when set, is called about every 64k packets with the bytes
	// read so far.
	Progress func(bytesRead int64)
	// Context, when set, ends ReadAll with its error (wrapped) once it is
	// done; MaxPackets, when positive, ends it with ErrTooManyPackets past
	// that many packets. Both are checked every 4096 packets, off the
	// per-packet path (the web's deadline and bound on an upload's work).
	Context    context.Context
	MaxPackets int64
}

// ErrTooManyPackets ends a ReadAll past Options.MaxPackets.
var ErrTooManyPackets = errors.New("too many packets")

func (o *Options) defaults() {
	if o.MaxFlows <= 0 {
		o.MaxFlows = 50000
	}
	if o.MaxFragments <= 0 {
		o.MaxFragments = 1024
	}
	if o.FlowTable <= 0 {
		o.FlowTable = 1000
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = 50
	}
}

// Analyzer runs the analysis one packet at a time. Use Analyze unless you
// feed packets yourself.
type Analyzer struct {
	opt Options
	dec Decoder
	pkt Packet

	packets   int64
	bytes     int64
	firstTime int64
	lastTime  int64
	format    string

	links     map[layers.LinkType]int64
	lastLink  layers.LinkType
	lastLinkN int64
	stacks    map[Stack]int64
	stackC    [8]Stack
	stackN    [8]int64

	nonIP     int64
	truncated evidence
	malformed evidence
	malWhy    []string // distinct reasons, first few
	maxOuter  int
	maxOuterN int64

	flows    flowTable
	last     *flow
	nflows   int64
	evicted  int64
	blocks   []sackBlock
	scratch  [60]byte
	frags    fragTable
	ptbLoose []*ptbEvent // PTBs whose flow is not in the table

	// results of finished flows
	findings  []Finding
	omitted   map[string]int
	perCode   map[string]int
	aggs      map[string]*agg
	specs     map[specKey]string
	clampWhys map[clampKey]string
	table     rowHeap
	pm        pathMTU

	// observe, when set (tests), sees every decoded packet, and again a
	// fragment that completes a datagram, after reassembly.
	observe func(p *Packet, err error)
}

// NewAnalyzer returns an Analyzer with opt.
func NewAnalyzer(opt Options) *Analyzer {
	opt.defaults()
	a := &Analyzer{
		opt:     opt,
		links:   map[layers.LinkType]int64{},
		stacks:  map[Stack]int64{},
		omitted: map[string]int{},
		perCode: map[string]int{},
		aggs:    map[string]*agg{},
	}
	a.frags.init(opt.MaxFragments)
	a.flows.init()
	return a
}

// Analyze reads a pcap or pcapng capture from r and returns its report. A
// file that breaks off or turns corrupt part way still gives the report of
// what came before, marked Partial, together with an error that names the
// bad packet.
func Analyze(r io.Reader, opt Options) (*Report, error) {
	a := NewAnalyzer(opt)
	err := a.ReadAll(r)
	rep := a.Report()
	if err != nil {
		rep.Partial = true
		rep.Error = err.Error()
	}
	return rep, err
}

// ReadAll analyzes every packet of the capture in r.
func (a *Analyzer) ReadAll(r io.Reader) error {
	src, err := openSource(r)
	if err != nil {
		return err
	}
	a.format = src.format()
	var rec record
	for {
		if err := src.next(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return readError(a.packets+1, err)
		}
		p := &a.pkt
		p.Num = a.packets + 1
		p.Time = rec.nanos
		p.CapLen = len(rec.data)
		p.WireLen = rec.wireLen
		p.Point = rec.point
		mal := a.malformed.n
		a.frame(rec.link, rec.data)
		if rec.problem != nil {
			a.recordProblem(p.Num, mal, rec.problem)
		}
		if a.packets&0xfff == 0 {
			if err := a.stop(); err != nil {
				return err
			}
			if a.opt.Progress != nil && a.packets&0xffff == 0 {
				a.opt.Progress(src.done())
			}
		}
	}
}

// stop is the error that ends ReadAll early: its context done, or too many
// packets.
func (a *Analyzer) stop() error {
	if c := a.opt.Context; c != nil && c.Err() != nil {
		return fmt.Errorf("stopped after %d packets: %w", a.packets, context.Cause(c))
	}
	if a.opt.MaxPackets > 0 && a.packets > a.opt.MaxPackets {
		return fmt.Errorf("over the %d packets accepted: %w", a.opt.MaxPackets, ErrTooManyPackets)
	}
	return nil
}

// frame analyzes one frame; a.pkt's Num, Time, CapLen, WireLen and Point
// are set by the caller (ReadAll, FeedPacket).
func (a *Analyzer) frame(link layers.LinkType, data []byte) {
	p := &a.pkt
	a.packets++
	a.bytes += int64(p.WireLen)
	if a.packets == 1 {
		a.firstTime = p.Time
	}
	a.lastTime = p.Time
	if link != a.lastLink || a.lastLinkN == 0 {
		if a.lastLinkN > 0 {
			a.links[a.lastLink] += a.lastLinkN
		}
		a.lastLink, a.lastLinkN = link, 0
	}
	a.lastLinkN++

	err := a.dec.Decode(link, data, p)
	a.countStack(&p.Stack)
	if a.observe != nil {
		a.observe(p, err)
	}
	if err != nil {
		a.bad(p, "", err.Error())
		return
	}
	if p.Truncated {
		a.truncated.add(p.Num)
	}
	if p.IP.Family == 0 {
		a.nonIP++
		return
	}
	if p.OuterLen > a.maxOuter {
		a.maxOuter, a.maxOuterN = p.OuterLen, p.Num
	}
	if p.IP.Atomic {
		a.frags.atomic(p)
	}
	if p.IP.Frag {
		a.fragment(p)
		return
	}
	a.transport(p)
}

// FeedPacket analyzes one frame given its number, time (Unix ns), length on
// the wire and capture point: for callers that read packets themselves.
func (a *Analyzer) FeedPacket(link layers.LinkType, data []byte, num, time int64, wireLen int, point uint64) {
	p := &a.pkt
	p.Num, p.Time, p.CapLen, p.WireLen, p.Point = num, time, len(data), wireLen, point
	a.frame(link, data)
}

// countStack counts a packet's encapsulation. A capture mixes a handful of
// stacks packet by packet, so a small array takes the counts before the map
// (hashing a Stack per packet was a visible cost).
func (a *Analyzer) countStack(s *Stack) {
	for i := range a.stackN {
		if a.stackN[i] > 0 && a.stackC[i] == *s {
			a.stackN[i]++
			return
		}
	}
	// evict the slot used least, into the map
	j := 0
	for i := range a.stackN {
		if a.stackN[i] < a.stackN[j] {
			j = i
		}
	}
	if a.stackN[j] > 0 {
		a.stacks[a.stackC[j]] += a.stackN[j]
	}
	a.stackC[j], a.stackN[j] = *s, 1
}

// flushStacks moves the small array's counts into the map.
func (a *Analyzer) flushStacks() {
	for i := range a.stackN {
		if a.stackN[i] > 0 {
			a.stacks[a.stackC[i]] += a.stackN[i]
			a.stackN[i] = 0
		}
	}
}

// transport handles a packet whose transport header was decoded.
func (a *Analyzer) transport(p *Packet) {
	switch p.L4 {
	case 6:
		if p.TCP.PayloadLen > maxGSOPayload {
			// no segmentation offload makes a packet this large
			a.bad(p, "", "tcp: "+itoa(p.TCP.PayloadLen)+" bytes of data in one packet, more than any segmentation offload carries ("+itoa(maxGSOPayload)+")")
			return
		}
		f, di := a.lookup(p)
		a.tcp(f, di, p)
	case 1, 58:
		if p.ICMP.IsPTB(p.IP.Family) {
			a.ptb(p)
		}
	}
}

// lookup finds or creates the flow of a TCP packet and says its direction.
func (a *Analyzer) lookup(p *Packet) (*flow, int) {
	ip, t := &p.IP, &p.TCP
	if f := a.last; f != nil {
		if di, ok := f.match(ip.Family, &ip.Src, &ip.Dst, t.SrcPort, t.DstPort); ok {
			f.touched = uint64(a.packets)
			return f, di
		}
	}
	h := flowHash(ip.Family, &ip.Src, &ip.Dst, t.SrcPort, t.DstPort)
	f, di := a.flows.get(h, ip.Family, &ip.Src, &ip.Dst, t.SrcPort, t.DstPort)
	if f == nil {
		if a.flows.n >= a.opt.MaxFlows {
			a.evict()
		}
		var key flowKey
		key, di = keyOf(ip.Family, &ip.Src, &ip.Dst, t.SrcPort, t.DstPort)
		f = &flow{key: key, hash: h, stack: p.Stack, firstNum: p.Num, firstTime: p.Time}
		f.d[0].opts.WScale, f.d[1].opts.WScale = -1, -1
		a.flows.put(f)
		a.nflows++
	}
	f.touched = uint64(a.packets)
	a.last = f
	return f, di
}

// evict finishes and drops the least recently active eighth of the flows.
func (a *Analyzer) evict() {
	fs := make([]*flow, 0, a.flows.n)
	a.flows.each(func(f *flow) { fs = append(fs, f) })
	slices.SortFunc(fs, func(x, y *flow) int {
		if x.touched != y.touched {
			if x.touched < y.touched {
				return -1
			}
			return 1
		}
		return int(x.firstNum - y.firstNum)
	})
	k := max(1, len(fs)/8)
	for _, f := range fs[:k] {
		a.finishFlow(f)
		a.flows.remove(f)
		a.evicted++
	}
	a.last = nil
}

// fragment handles an IP fragment: statistics, checks, and reassembly.
func (a *Analyzer) fragment(p *Packet) {
	payload, ok := a.frags.add(p)
	if !ok {
		return
	}
	// the datagram is whole: decode and analyze its transport
	err := a.dec.DecodeReassembled(p, payload)
	if a.observe != nil {
		a.observe(p, err)
	}
	if err != nil {
		a.bad(p, " (reassembled)", err.Error())
		return
	}
	a.transport(p)
}

// bad counts p as malformed, keeping the first few reasons.
func (a *Analyzer) bad(p *Packet, where, why string) {
	a.malformed.add(p.Num)
	if len(a.malWhy) < 5 {
		a.malWhy = append(a.malWhy, "packet "+itoa(int(p.Num))+where+": "+why)
	}
}
