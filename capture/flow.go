package capture

import (
	"bytes"

	"github.com/mtukit/mtukit/mss"
)

// flowKey identifies a TCP connection regardless of direction: endpoint a
// is the lower of the two (address, then port).
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	fam    uint8
}

// keyOf returns the flow key of a packet from src:sp to dst:dp and the
// direction of that packet in the flow (0: a to b).
func keyOf(fam uint8, src, dst *[16]byte, sp, dp uint16) (flowKey, int) {
	c := bytes.Compare(src[:], dst[:])
	if c < 0 || (c == 0 && sp <= dp) {
		return flowKey{a: *src, b: *dst, pa: sp, pb: dp, fam: fam}, 0
	}
	return flowKey{a: *dst, b: *src, pa: dp, pb: sp, fam: fam}, 1
}

// seq comparisons modulo 2^32 (RFC 9293 §3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// Limits that bound the memory one flow can take.
const (
	maxSegsPerDir = 512 // outstanding segments tracked per direction
	maxEvidence   = 8   // packet numbers kept as evidence per item
	maxSizes      = 6   // distinct sizes in the retransmission histogram
)

// evidence is a short list of packet numbers.
type evidence struct {
	n    int64 // how many events in all
	nums [maxEvidence]int64
}

func (e *evidence) add(num int64) {
	if e.n < maxEvidence {
		e.nums[e.n] = num
	}
	e.n++
}

func (e *evidence) list() []int64 {
	k := min(e.n, maxEvidence)
	out := make([]int64, k)
	copy(out, e.nums[:k])
	return out
}

// seg is one data segment sent and not yet acknowledged.
type seg struct {
	seq       uint32
	len       int32 // payload of the first transmission
	minLen    int32 // smallest transmission that started at or inside it
	ipLen     int32 // IP packet size of the first transmission
	tx        int32 // transmissions at full length (first one included)
	sacked    bool
	firstNum  int64
	firstTime int64
}

func (s *seg) end() uint32 { return s.seq + uint32(s.len) }

// segQueue holds outstanding segments in sequence order.
type segQueue struct {
	s    []seg
	head int
}

func (q *segQueue) n() int { return len(q.s) - q.head }

func (q *segQueue) push(x seg) bool {
	if q.n() >= maxSegsPerDir {
		return false
	}
	if q.head > 0 && q.head >= len(q.s)/2 {
		k := copy(q.s, q.s[q.head:])
		q.s = q.s[:k]
		q.head = 0
	}
	q.s = append(q.s, x)
	return true
}

func (q *segQueue) front() *seg {
	if q.n() == 0 {
		return nil
	}
	return &q.s[q.head]
}

func (q *segQueue) pop() { q.head++ }

// find returns the segment containing seq, or nil.
func (q *segQueue) find(seq uint32) *seg {
	if i := q.index(seq); i >= 0 {
		return &q.s[i]
	}
	return nil
}

// index returns the index in q.s of the segment containing seq, or -1.
func (q *segQueue) index(seq uint32) int {
	lo, hi := q.head, len(q.s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if seqLE(q.s[m].end(), seq) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(q.s) && seqLE(q.s[lo].seq, seq) {
		return lo
	}
	return -1
}

// stall follows the oldest outstanding segment once it is retransmitted:
// the raw material of the black-hole test.
type stall struct {
	active   bool
	seq      uint32
	size     int // payload of the full-size transmissions
	ipLen    int // their IP size
	tx       int // full-size transmissions
	nums     evidence
	first    int64 // time of the first transmission
	prev     int64 // time of the latest full-size transmission
	gap      int64 // latest gap between full-size transmissions
	firstGap int64
	steady   bool  // no gap shrank below 0.8 of the one before (back-off)
	peerNum  int64 // first packet from the peer after the first transmission
	shrunk   int64 // first smaller retransmission covering the segment
	resolved int   // 0 no, 1 acknowledged at full size, 2 after shrinking
	peerZero bool  // the peer's window was 0 when the stall began
	ptb      bool  // a PTB quoting this direction arrived during the stall
}

// dir is one direction of a TCP flow: what its sender did. The fields
// every packet touches are here; what only retransmissions, options
// trouble, offload or ICMP need lives in a dirRare allocated on first use,
// which keeps the per-flow footprint (and cache misses) small.
type dir struct {
	// first cache lines: what every packet reads or writes
	point    uint64
	pointSet bool
	syn      bool
	seqInit  bool
	unaSet   bool
	winZero  bool
	rst      bool
	fin      bool
	win      uint16
	mss      uint16 // the SYN's MSS option (opts.MSS), kept hot for the peer's segment checks
	sndMax   uint32
	una      uint32 // highest acknowledgment from the peer
	pkts     int64
	dataPkts int64
	bytes    int64
	lastTime int64
	lastNum  int64
	df, noDF int64
	hdrs     int // IP + TCP header bytes of the latest data segment
	segs     segQueue
	r        *dirRare

	maxPayload   int
	maxPayNum    int64
	maxIPLen     int
	maxDelivered int
	maxDelivNum  int64
	maxDelivIP   int
	retrans      int64

	// the SYN
	synSeq uint32
	synNum int64
	opts   synOptions // of the (first) SYN
}

// synOptions is what the report needs of a SYN's options: all of
// mss.Summary took 70 bytes per direction, a tenth of a flow.
type synOptions struct {
	MSS      uint16
	WScale   int16 // shift count; -1 when none
	SACKPerm bool
	TS       bool
}

func synOptionsOf(s mss.Summary) synOptions {
	return synOptions{MSS: s.MSS, WScale: int16(s.WScale), SACKPerm: s.SACKPerm, TS: s.TS}
}

// dirRare is the state of a direction that most flows never need.
type dirRare struct {
	// the same SYN seen at another capture point with another MSS
	mssOther    uint16
	mssOtherSet bool
	mssOtherNum int64

	retransBytes int64
	rsizes       [maxSizes]sizeCount
	rsizeOther   int64
	untracked    int64 // segments not tracked because the queue was full

	st stall // the current stall
	bh stall // the worst stall that ended without a full-size delivery

	offload   evidence
	maxOffl   int
	gso       int32 // the wire segment size in force for d's super-packets (gsoSize)
	gsoCand   int32 // a size one super-packet suggested, waiting for a second
	gsoNum    int64 // the latest super-packet of d
	oversize  evidence
	maxOver   int
	overLimit int
	badOpt    evidence
	badWhat   mss.Anomaly
	ptbs      []*ptbEvent
	syns      *synHistory // several distinct SYNs (syn.go)
}

// noRare is what rd returns for a direction that never needed dirRare.
var noRare dirRare

// rd is the rare state for reading (a zero value when there is none).
func (d *dir) rd() *dirRare {
	if d.r == nil {
		return &noRare
	}
	return d.r
}

// wr is the rare state for writing, allocated on first use.
func (d *dir) wr() *dirRare {
	if d.r == nil {
		d.r = new(dirRare)
	}
	return d.r
}

type sizeCount struct {
	Size  int   `json:"size"`
	Count int64 `json:"count"`
}

func (d *dir) addRetransSize(n int) {
	r := d.wr()
	for i := range r.rsizes {
		if r.rsizes[i].Size == n {
			r.rsizes[i].Count++
			return
		}
		if r.rsizes[i].Count == 0 {
			r.rsizes[i] = sizeCount{n, 1}
			return
		}
	}
	r.rsizeOther++
}

// flow is one TCP connection.
type flow struct {
	key       flowKey
	hash      uint64
	d         [2]dir
	stack     Stack // encapsulation of the first packet
	firstNum  int64
	firstTime int64
	lastTime  int64
	touched   uint64 // analyzer packet counter at the last packet, for eviction
	pkts      int64
	overhead  int   // encapsulation bytes against the link MTU (0: none or unknown)
	maxOuter  int   // largest outermost IP packet
	synTime   int64 // first SYN or SYN-ACK seen, for the handshake round trip
	rtt       int64 // longest gap between handshake packets: a round trip as the capture point sees it
}

// grace is how long after an ICMP error packets may still have been in
// flight: two handshake round trips, at least 1 ms.
func (f *flow) grace() int64 {
	return max(2*f.rtt, 1e6)
}

// tcp updates the flow with a TCP packet in direction di.
func (a *Analyzer) tcp(f *flow, di int, p *Packet) {
	d, peer := &f.d[di], &f.d[1-di]
	t := &p.TCP
	f.pkts++
	f.lastTime = p.Time
	f.maxOuter = max(f.maxOuter, p.OuterLen)
	if f.overhead == 0 && (p.Tunnels > 0 || p.Stack.At(0) != LayerEthernet || p.Stack.At(1) != LayerIPv4) {
		if o := p.overhead(); o > 0 {
			f.overhead = o
		}
	}

	// One capture point per direction: the same packets seen at another
	// point are duplicates, useful only to compare SYNs.
	if !d.pointSet {
		d.point, d.pointSet = p.Point, true
	} else if p.Point != d.point {
		if t.Flags&mss.FlagSYN != 0 && d.syn && t.Seq == d.synSeq && !t.OptsCut {
			if s, err := readOptions(t.Header); err == nil && s.MSS != d.opts.MSS && !d.rd().mssOtherSet && !d.synHad(s.MSS) {
				r := d.wr()
				r.mssOther, r.mssOtherSet, r.mssOtherNum = s.MSS, true, p.Num
			}
		}
		return
	}
	d.pkts++
	d.lastTime, d.lastNum = p.Time, p.Num
	if p.IP.Family == 4 {
		if p.IP.DF {
			d.df++
		} else {
			d.noDF++
		}
	}

	// options
	var sum mss.Summary
	haveSum := false
	if t.OptsCut {
		if t.Flags&mss.FlagSYN != 0 {
			sum, haveSum = readCutOptions(t.Header, &a.scratch)
		}
	} else if len(t.Options) > 0 && !tsOnly(t.Options) {
		s, err := readOptions(t.Header)
		if err == nil {
			sum, haveSum = s, true
			if s.Anomalies != 0 {
				r := d.wr()
				r.badOpt.add(p.Num)
				r.badWhat |= s.Anomalies
			}
		}
	}

	if f.rtt == 0 && f.synTime != 0 && (t.Flags&mss.FlagSYN != 0 || t.Flags&mss.FlagACK != 0) && p.Time > f.synTime {
		// SYN -> SYN-ACK, or SYN-ACK -> ACK: a round trip seen from here
		if t.Flags&mss.FlagSYN != 0 || d.syn {
			f.rtt = p.Time - f.synTime
		}
	}
	if t.Flags&mss.FlagSYN != 0 {
		f.synTime = p.Time
		if !d.syn {
			d.syn, d.synNum, d.synSeq = true, p.Num, t.Seq
			if haveSum {
				d.opts = synOptionsOf(sum)
			} else {
				d.opts = synOptions{WScale: -1}
			}
			d.mss = d.opts.MSS
			d.seqInit, d.sndMax = true, t.Seq+1
		} else {
			opts := synOptions{WScale: -1}
			if haveSum {
				opts = synOptionsOf(sum)
			}
			a.synAgain(d, p, opts)
		}
	}
	if t.Flags&mss.FlagRST != 0 {
		d.rst = true
	}
	if t.Flags&mss.FlagFIN != 0 {
		d.fin = true
	}
	d.win = t.Window
	d.winZero = t.Window == 0 && t.Flags&mss.FlagRST == 0

	if t.PayloadLen > 0 {
		a.tcpData(f, d, peer, p)
	}
	if t.Flags&mss.FlagACK != 0 {
		if x := peer.r; x != nil && x.syns != nil && x.syns.used < 0 {
			a.synAnswered(peer, p)
		}
		a.tcpAck(peer, d, p, haveSum)
	}
}

// tcpData handles a segment that carries data from d. A segmentation
// offload super-packet (TSO/GSO at a sending host, GRO/LRO at a receiving
// one, BIG TCP) is cut into the wire segments the NIC made of it, or the
// sender sent before GRO merged them (see gsoSize), and each piece goes
// through the same retransmission, delivery and black-hole logic as a
// segment captured on the wire.
func (a *Analyzer) tcpData(f *flow, d, peer *dir, p *Packet) {
	t := &p.TCP
	n := t.PayloadLen
	d.dataPkts++
	d.bytes += int64(n)
	ipHdr := p.IP.HdrLen
	if p.IP.Jumbo {
		ipHdr -= 8 // the hop-by-hop jumbo option exists only on the super-packet
	}
	d.hdrs = ipHdr + t.HdrLen

	if !a.offload(d, peer, p) {
		ipLen := p.IP.TotalLen
		if n > d.maxPayload {
			d.maxPayload, d.maxPayNum = n, p.Num
		}
		d.maxIPLen = max(d.maxIPLen, ipLen)
		if lim := sendMSS(peer, p.IP.Family); lim > 0 && n > lim {
			r := d.wr()
			r.oversize.add(p.Num)
			r.maxOver = max(r.maxOver, n)
			r.overLimit = lim
		}
		if r := d.r; r != nil {
			for _, e := range r.ptbs {
				e.after(p, ipLen, f.grace())
			}
		}
		a.tcpPiece(d, peer, p, t.Seq, n, ipLen)
		return
	}

	r := d.wr()
	r.offload.add(p.Num)
	r.maxOffl = max(r.maxOffl, p.IP.TotalLen)
	g := a.gsoSize(d, peer, p)
	piece := min(n, g)
	if piece > d.maxPayload {
		d.maxPayload, d.maxPayNum = piece, p.Num
	}
	d.maxIPLen = max(d.maxIPLen, piece+d.hdrs)
	for _, e := range r.ptbs {
		e.after(p, piece+d.hdrs, f.grace())
	}
	for off := 0; off < n; off += g {
		k := min(g, n-off)
		a.tcpPiece(d, peer, p, t.Seq+uint32(off), k, k+d.hdrs)
	}
}

// maxGSOPayload bounds the TCP payload of a super-packet: Linux caps a GSO
// packet, BIG TCP included, at GSO_MAX_SIZE = 8 * GSO_MAX_SEGS = 524280
// bytes (include/linux/netdevice.h: the smallest GSO size is 8 and
// gso_segs a 16-bit field). More data in one packet is not an offload
// artifact but a file that lies.
const maxGSOPayload = 8 * 65535

// gsoSize is the payload of each wire segment of super-packet p from d:
// the gso_size the sending kernel gave it, which no capture records.
//
// It starts as the MSS in force (the smaller of the peer's announced MSS
// and the one d's own link implies, RFC 6691) less the TCP options every
// segment repeats, and follows the sender from there, up to the peer's MSS
// (a sender whose own SYN a middlebox clamped sends more than it
// announced). A genuine PTB for d lowers it at once (what a sender that
// honours it does). A super-packet of new data is built at the size in
// force, so it is a whole number of segments unless it ends a write: one
// that the current size does not divide but the MSS from the SYNs, the
// peer's or a PTB's does, switches to that size; failing those, the
// largest size from 3/4 of the MSS up to the peer's that divides it is
// taken when a second super-packet confirms it (one alone is as likely the
// tail of a write). Resent super-packets are old sends re-cut at the size
// in force: they follow it and do not vote.
func (a *Analyzer) gsoSize(d, peer *dir, p *Packet) int {
	r := d.r
	opts := p.TCP.HdrLen - 20
	ipHdr := p.IP.HdrLen
	if p.IP.Jumbo {
		ipHdr -= 8
	}
	// g0 is the MSS in force as the SYNs say; gMax what the peer allows,
	// which a sender whose own SYN a middlebox lowered does send
	g0 := ownMTU(d, p.IP.Family) - ipTCPHeaders(p.IP.Family)
	gMax := g0
	if lim := sendMSS(peer, p.IP.Family); lim > 0 {
		g0, gMax = min(g0, lim), lim
	}
	g0, gMax = max(g0-opts, 1), max(gMax-opts, 1) // options filling the MSS: nothing sensible to cut by
	cur := int(r.gso)
	if cur <= 0 || cur > gMax {
		cur = g0
	}
	ptbSize := 0
	for _, e := range r.ptbs {
		if e.suspect != "" || e.mtu <= 0 || e.num >= p.Num {
			continue
		}
		c := e.mtu - ipHdr - p.TCP.HdrLen
		if c <= 0 || c >= g0 {
			continue
		}
		if e.last > r.gsoNum && c < cur {
			cur = c // a PTB since the last super-packet
		}
		ptbSize = max(ptbSize, c)
	}
	r.gsoNum = p.Num
	n := p.TCP.PayloadLen
	newData := !d.seqInit || !seqLT(p.TCP.Seq, d.sndMax)
	if newData && n > cur && n%cur != 0 {
		switch {
		case n%g0 == 0 && n > g0:
			cur = g0
		case n%gMax == 0 && n > gMax:
			cur = gMax
		case ptbSize > 0 && n%ptbSize == 0 && n > ptbSize:
			cur = ptbSize
		default:
			if c := largestDivisor(n, g0*3/4, gMax); c > 0 {
				if int(r.gsoCand) == c {
					cur = c
				}
				r.gsoCand = int32(c)
			}
		}
	}
	r.gso = int32(cur)
	return cur
}

// largestDivisor is the largest c in [lo, hi] that divides n into at least
// two pieces, or 0. It tries at most 4096 sizes below hi (a 9000-byte
// link's MSS range is 2240 wide), so a crafted file cannot make each
// packet cost more.
func largestDivisor(n, lo, hi int) int {
	lo = max(lo, 1, hi-4096)
	for c := min(hi, n/2); c >= lo; c-- {
		if n%c == 0 {
			return c
		}
	}
	return 0
}

// tcpPiece handles n bytes of data from d starting at seq, as one wire
// segment of ipLen bytes: a whole packet, or one piece of a super-packet.
func (a *Analyzer) tcpPiece(d, peer *dir, p *Packet, seq uint32, n, ipLen int) {
	end := seq + uint32(n)
	if !d.seqInit {
		d.seqInit, d.sndMax = true, seq
	}
	if !seqLT(seq, d.sndMax) {
		// New data (possibly after a gap the capture missed). Only a
		// segment larger than any delivered so far can teach something
		// (a larger delivery, or a stall of a size that never got
		// through), so only those are tracked: on a healthy flow the queue
		// stays empty once a full-size segment is acknowledged.
		if n > d.maxDelivered {
			if !d.segs.push(seg{seq: seq, len: int32(n), minLen: int32(n), ipLen: int32(ipLen), tx: 1, firstNum: p.Num, firstTime: p.Time}) {
				d.wr().untracked++
			}
		}
		d.sndMax = end
		return
	}
	// a retransmission (or new data overlapping old)
	if seqLT(d.sndMax, end) {
		d.sndMax = end
	}
	d.retrans++
	d.wr().retransBytes += int64(n)
	d.addRetransSize(n)
	if d.unaSet && seqLE(end, d.una) {
		// everything in it was acknowledged already: spurious, not a stall
		return
	}
	s := d.segs.find(seq)
	if s == nil {
		return
	}
	if s.seq == seq && int32(n) >= s.len {
		s.tx++
	} else if int32(n) < s.minLen {
		s.minLen = int32(n)
	}
	// the stall follows the oldest outstanding segment
	if s != d.segs.front() {
		return
	}
	st := &d.wr().st
	if !st.active || st.seq != s.seq {
		if st.active {
			a.endStall(d, 0)
		}
		*st = stall{active: true, seq: s.seq, size: int(s.len), ipLen: int(s.ipLen), tx: 1, first: s.firstTime, prev: s.firstTime, steady: true}
		st.nums.add(s.firstNum)
		st.peerZero = peer.winZero
		if peer.lastTime > s.firstTime {
			st.peerNum = peer.lastNum
		}
	}
	if s.seq == seq && n >= st.size {
		st.tx++
		st.nums.add(p.Num)
		gap := p.Time - st.prev
		if st.gap > 0 && gap*5 < st.gap*4 {
			st.steady = false
		}
		if st.firstGap == 0 {
			st.firstGap = gap
		}
		st.gap, st.prev = gap, p.Time
	} else if st.shrunk == 0 {
		st.shrunk = p.Num
	}
}

// tcpAck handles an acknowledgment from peer side a of d's data (d sent the
// data; ack is from the other side, the packet p).
func (a *Analyzer) tcpAck(d, from *dir, p *Packet, haveSum bool) {
	ack := p.TCP.Ack
	if r := d.r; r != nil && r.st.active && p.Time > r.st.first && r.st.peerNum == 0 {
		r.st.peerNum = p.Num
	}
	if !d.unaSet || seqLT(d.una, ack) {
		if d.seqInit && seqLT(d.sndMax, ack) {
			// acknowledges data never seen: the capture missed it
			d.sndMax = ack
		}
		d.una, d.unaSet = ack, true
		for s := d.segs.front(); s != nil && seqLE(s.end(), ack); s = d.segs.front() {
			if !s.sacked {
				a.delivered(d, s, p.Num)
			}
			d.segs.pop()
		}
		if s := d.segs.front(); s != nil && seqLT(s.seq, ack) && s.minLen < s.len {
			// partly acknowledged after a smaller resend: that piece arrived
			if part := int(ack - s.seq); part > d.maxDelivered {
				d.maxDelivered, d.maxDelivNum, d.maxDelivIP = part, p.Num, part+d.hdrs
			}
		}
		if r := d.r; r != nil && r.st.active && seqLT(r.st.seq, ack) {
			if s := d.segs.front(); s != nil && s.seq == r.st.seq {
				// partly acknowledged: the peer got a smaller piece
				if r.st.shrunk == 0 {
					r.st.shrunk = p.Num
				}
			} else {
				a.endStall(d, 0)
			}
		}
	}
	if haveSum && d.segs.n() > 0 && len(p.TCP.Options) > 10 {
		a.blocks = readSACK(p.TCP.Header, a.blocks[:0])
		for _, b := range a.blocks {
			if !seqLT(b.left, b.right) {
				continue
			}
			i := d.segs.index(b.left)
			if i < 0 {
				continue
			}
			for ; i < len(d.segs.s); i++ {
				x := &d.segs.s[i]
				if !seqLE(x.end(), b.right) {
					break
				}
				if !x.sacked && seqLE(b.left, x.seq) {
					x.sacked = true
					a.delivered(d, x, p.Num)
					if r := d.r; r != nil && r.st.active && x.seq == r.st.seq {
						a.endStall(d, 0)
					}
				}
			}
		}
	}
}

// delivered records that segment s of d reached the peer.
func (a *Analyzer) delivered(d *dir, s *seg, num int64) {
	n := int(s.minLen)
	if n > d.maxDelivered {
		d.maxDelivered, d.maxDelivNum = n, num
		if s.minLen == s.len {
			d.maxDelivIP = int(s.ipLen)
		} else {
			d.maxDelivIP = int(s.ipLen) - int(s.len-s.minLen)
		}
	}
	if r := d.r; r != nil && r.st.active && s.seq == r.st.seq {
		if s.minLen >= int32(r.st.size) {
			r.st.resolved = 1
		} else {
			r.st.resolved = 2
		}
	}
}

// endStall closes d's current stall, keeping it as the black-hole
// candidate when it was never delivered at full size.
func (a *Analyzer) endStall(d *dir, _ int) {
	r := d.r
	if r == nil {
		return
	}
	st := r.st
	r.st.active = false
	if st.resolved == 1 || st.tx < 3 {
		return
	}
	if st.tx > r.bh.tx {
		r.bh = st
	}
}

// sendMSS is the largest payload d's peer allows per segment: the MSS its
// SYN announced, or the default (536 IPv4, 1220 IPv6; RFC 9293 §3.7.1) when
// its SYN had none. 0 when the peer's SYN was not captured.
func sendMSS(peer *dir, fam uint8) int {
	if !peer.syn {
		return 0
	}
	if peer.mss > 0 {
		return int(peer.mss)
	}
	return mss.DefaultSendMSS(famOf(fam))
}

// offload reports whether a data segment from d is a TSO/GSO/GRO or BIG TCP
// super-packet that never was on the wire as such. Certain when its IP
// length field is 0 (as TSO and BIG TCP write it) or it exceeds 65535.
// Otherwise it must carry more than the peer's MSS (one segment's worth) and
// be larger than the sender's own link allows: the MTU its SYN's MSS implies
// (RFC 6691: MSS + 40 for IPv4, + 60 for IPv6), or 1500 when its SYN was not
// captured.
func (a *Analyzer) offload(d, peer *dir, p *Packet) bool {
	ip := &p.IP
	if ip.LenZero || ip.TotalLen > 65535 {
		return true
	}
	if lim := sendMSS(peer, ip.Family); lim > 0 && p.TCP.PayloadLen <= lim {
		return false
	}
	return ip.TotalLen > ownMTU(d, ip.Family)
}

// ownMTU is the link MTU d's SYN implies, or 1500 when unknown.
func ownMTU(d *dir, fam uint8) int {
	if d.syn && d.opts.MSS > 0 {
		return int(d.opts.MSS) + ipTCPHeaders(fam)
	}
	return 1500
}

// ipTCPHeaders is the fixed IP and TCP header size: 40 for IPv4, 60 for IPv6.
func ipTCPHeaders(fam uint8) int {
	if fam == 6 {
		return 60
	}
	return 40
}
