package capture

// maxPTBsPerDir bounds the distinct PTB events kept per flow direction;
// further PTBs with an MTU already seen are counted into that event.
const (
	maxPTBsPerDir = 4
	maxLoosePTBs  = 256
)

// ptbEvent is an ICMP fragmentation-needed or ICMPv6 packet-too-big, tied
// to the flow direction whose packet it quotes.
type ptbEvent struct {
	num     int64
	last    int64 // the latest PTB counted into this event
	time    int64
	fam     uint8
	mtu     int
	router  [16]byte
	quote   Quote
	count   int64
	nums    evidence
	matched bool // the quoted flow is in the capture
	flow    *flow
	di      int
	suspect string // why the PTB looks forged or wrong, "" if it does not

	// how the sender behaved afterwards (data segments; a super-packet
	// counts as its wire segments' size)
	afterN     int64
	afterBig   evidence // larger than the MTU
	firstSmall int64
	lastBig    bool // the latest data segment was still too big
}

// after records a data segment the sender sent after the PTB.
// Large packets sent within grace of the PTB may have been on their way
// already (a capture on a router sees them after it sent the PTB): they do
// not count against the sender.
func (e *ptbEvent) after(p *Packet, ipLen int, grace int64) {
	if p.Num <= e.num || e.mtu == 0 {
		return
	}
	if ipLen > e.mtu && p.Time-e.time < grace {
		return
	}
	e.afterN++
	if ipLen > e.mtu {
		e.afterBig.add(p.Num)
		e.lastBig = true
		return
	}
	e.lastBig = false
	if e.firstSmall == 0 {
		e.firstSmall = p.Num
	}
}

// reaction says what the sender did after the PTB.
type reaction int

const (
	reactUnknown reaction = iota // no data after it
	reactShrank
	reactIgnored
)

func (e *ptbEvent) reaction() reaction {
	switch {
	case e.afterN == 0:
		return reactUnknown
	case e.lastBig && e.afterBig.n >= 2:
		return reactIgnored
	case !e.lastBig && e.firstSmall > 0:
		return reactShrank
	}
	return reactUnknown
}

// ptb handles an ICMP packet-too-big message.
func (a *Analyzer) ptb(p *Packet) {
	q := &p.ICMP.Quoted
	e := &ptbEvent{num: p.Num, last: p.Num, time: p.Time, fam: p.IP.Family, mtu: int(p.ICMP.MTU), router: p.IP.Src, quote: *q, count: 1}
	e.nums.add(p.Num)
	minMTU := 68
	if p.IP.Family == 6 {
		minMTU = 1280
	}
	switch {
	case q.Family == 0:
		e.suspect = "it quotes no usable IP header"
	case q.Family != p.IP.Family:
		e.suspect = "it quotes an IPv" + itoa(int(q.Family)) + " packet in an ICMP message of the other family"
	case e.mtu != 0 && e.mtu < minMTU:
		e.suspect = "its MTU " + itoa(e.mtu) + " is below the minimum of " + itoa(minMTU)
	case e.mtu != 0 && q.TotalLen <= e.mtu:
		e.suspect = "the quoted packet (" + itoa(q.TotalLen) + " bytes) fits the MTU it claims (" + itoa(e.mtu) + ")"
	}
	if q.Family != 0 && q.Proto == 6 && q.HasPorts {
		h := flowHash(q.Family, &q.Src, &q.Dst, q.SrcPort, q.DstPort)
		if f, di := a.flows.get(h, q.Family, &q.Src, &q.Dst, q.SrcPort, q.DstPort); f != nil {
			e.matched, e.flow, e.di = true, f, di
			d := &f.d[di]
			if e.suspect == "" && q.HasSeq && d.seqInit && d.dataPkts > 0 {
				lo := d.synSeq
				if !d.syn {
					if s := d.segs.front(); s != nil {
						lo = s.seq
					} else {
						lo = d.una
					}
				}
				if seqLT(q.Seq, lo) || !seqLT(q.Seq, d.sndMax) {
					e.suspect = "it quotes sequence number " + uitoa(q.Seq) + ", which the sender never sent"
				} else if d.maxIPLen > 0 && q.TotalLen > max(d.maxIPLen, d.rd().maxOffl) {
					e.suspect = "it quotes a " + itoa(q.TotalLen) + "-byte packet, larger than any the sender sent (" + itoa(d.maxIPLen) + ")"
				}
			}
			// the same MTU again: count it in
			r := d.wr()
			for _, old := range r.ptbs {
				if old.mtu == e.mtu && old.suspect == e.suspect {
					old.count++
					old.last = p.Num
					old.nums.add(p.Num)
					return
				}
			}
			if r.st.active {
				r.st.ptb = true
			}
			if len(r.ptbs) < maxPTBsPerDir {
				r.ptbs = append(r.ptbs, e)
			}
			return
		}
	}
	for _, old := range a.ptbLoose {
		if old.mtu == e.mtu && old.router == e.router && old.quote.Dst == e.quote.Dst && old.suspect == e.suspect {
			old.count++
			old.nums.add(p.Num)
			return
		}
	}
	if len(a.ptbLoose) < maxLoosePTBs {
		a.ptbLoose = append(a.ptbLoose, e)
	}
}

func uitoa(v uint32) string { return itoa(int(v)) }
