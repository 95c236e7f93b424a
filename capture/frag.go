package capture

import (
	"bytes"
	"slices"
)

// Limits of the reassembly table.
const (
	maxPieces     = 64        // fragments kept per datagram
	maxFragBytes  = 16 << 20  // bytes buffered over all datagrams
	fragTimeout   = 30e9      // ns; Linux ipfrag_time is 30 s
	maxFragPairs  = 4096      // host pairs with fragment statistics
	maxDatagram   = 65535 + 8 // largest IPv4/IPv6 payload (no jumbograms)
	fragSweepMask = 1023
)

// fragKey identifies one datagram under reassembly (RFC 791 §3.2: source,
// destination, protocol and identification; RFC 8200 §4.5 for IPv6).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	fam      uint8
}

// pairKey identifies the traffic between two hosts in one protocol, for
// the fragmentation statistics.
type pairKey struct {
	src, dst [16]byte
	proto    uint8
	fam      uint8
}

type piece struct {
	off, end int
	num      int64
}

type datagram struct {
	key      fragKey
	pieces   []piece
	buf      []byte
	total    int // payload size from the last fragment, -1 until seen
	lastTime int64
	firstNum int64
	bad      bool // a piece was refused: never reassemble
}

// fragStat is what the fragments between two hosts show.
type fragStat struct {
	key        pairKey
	sport      uint16
	dport      uint16
	ports      bool
	datagrams  int64 // reassembled
	incomplete int64
	fragments  evidence
	maxFrag    int // largest IP size of a fragment with more-fragments set
	maxFragN   int64
	dfConflict evidence
	overlap    evidence
	conflict   bool // overlapping fragments disagree on the bytes
	malformed  evidence
	malWhy     string
	atomic     evidence
}

type fragTable struct {
	max   int
	m     map[fragKey]*datagram
	order []*datagram // by arrival, for eviction
	bytes int
	stats map[pairKey]*fragStat
	seen  int64
	other fragStat // statistics beyond maxFragPairs
}

func (t *fragTable) init(max int) {
	t.max = max
	t.m = map[fragKey]*datagram{}
	t.stats = map[pairKey]*fragStat{}
}

func (t *fragTable) stat(p *Packet) *fragStat {
	k := pairKey{src: p.IP.Src, dst: p.IP.Dst, proto: p.IP.Proto, fam: p.IP.Family}
	s := t.stats[k]
	if s == nil {
		if len(t.stats) >= maxFragPairs {
			return &t.other
		}
		s = &fragStat{key: k}
		t.stats[k] = s
	}
	return s
}

// atomic records an IPv6 atomic fragment (RFC 6946: a fragment header with
// offset 0 and M clear; RFC 8021 deprecates sending them).
func (t *fragTable) atomic(p *Packet) {
	t.stat(p).atomic.add(p.Num)
}

// add takes one fragment. When it completes its datagram, add returns the
// reassembled IP payload (valid until the next call) and true.
func (t *fragTable) add(p *Packet) ([]byte, bool) {
	t.seen++
	if t.seen&fragSweepMask == 0 {
		t.sweep(p.Time)
	}
	ip := &p.IP
	st := t.stat(p)
	st.fragments.add(p.Num)
	data := p.FragPayload
	plen := ip.TotalLen - ip.HdrLen // the fragment's payload per its header
	if len(data) > plen {
		data = data[:plen]
	}
	off, end := ip.FragOff, ip.FragOff+plen
	if ip.MF && ip.TotalLen > st.maxFrag {
		st.maxFrag, st.maxFragN = ip.TotalLen, p.Num
	}
	if ip.Family == 4 && ip.DF {
		st.dfConflict.add(p.Num)
	}
	why := ""
	switch {
	case plen <= 0:
		why = "a fragment with no data"
	case ip.MF && plen%8 != 0:
		why = "a fragment with more-fragments set whose length (" + itoa(plen) + ") is not a multiple of 8"
	case end > 65535:
		why = "fragments that reassemble beyond 65535 bytes"
	}
	k := fragKey{src: ip.Src, dst: ip.Dst, id: ip.ID, proto: ip.Proto, fam: ip.Family}
	dg := t.m[k]
	if dg == nil {
		for len(t.m) >= t.max || (t.bytes > maxFragBytes && len(t.order) > 0) {
			t.drop(t.order[0], true)
		}
		dg = &datagram{key: k, total: -1, firstNum: p.Num}
		t.m[k] = dg
		t.order = append(t.order, dg)
	}
	dg.lastTime = p.Time
	if why != "" {
		t.malformed(st, p.Num, why)
		dg.bad = true
		return nil, false
	}
	if !ip.MF {
		if dg.total >= 0 && dg.total != end {
			t.malformed(st, p.Num, "two last fragments that disagree on the datagram's length")
			dg.bad = true
		}
		dg.total = end
	}
	if dg.total >= 0 && end > dg.total {
		t.malformed(st, p.Num, "a fragment beyond the end the last fragment sets")
		dg.bad = true
	}
	if off == 0 && !ip.Atomic {
		// RFC 1858 (tiny fragments), RFC 7112 (IPv6: the whole header chain
		// must be in the first fragment)
		need := 8 // UDP, ICMP, ICMPv6
		if ip.Proto == 6 {
			need = 20
		}
		if (ip.Proto == 6 || ip.Proto == 17 || ip.Proto == 1 || ip.Proto == 58) && plen < need {
			t.malformed(st, p.Num, "a first fragment too short ("+itoa(plen)+" bytes) to hold its transport header")
		}
		if len(data) >= 4 && (ip.Proto == 6 || ip.Proto == 17) {
			st.sport = uint16(data[0])<<8 | uint16(data[1])
			st.dport = uint16(data[2])<<8 | uint16(data[3])
			st.ports = true
		}
	}
	if dg.bad || len(dg.pieces) >= maxPieces {
		dg.bad = true
		return nil, false
	}
	if len(data) < plen { // the snap length cut it: cannot reassemble
		dg.bad = true
		dg.pieces = append(dg.pieces, piece{off, end, p.Num})
		return nil, false
	}
	// overlaps: compare what the buffer already holds
	for _, q := range dg.pieces {
		lo, hi := max(q.off, off), min(q.end, end)
		if lo < hi {
			st.overlap.add(p.Num)
			if !bytes.Equal(dg.buf[lo:hi], data[lo-off:hi-off]) {
				st.conflict = true
			}
			break
		}
	}
	if end > len(dg.buf) {
		grow := end - len(dg.buf)
		t.bytes += grow
		dg.buf = append(dg.buf, make([]byte, grow)...)
	}
	copy(dg.buf[off:end], data)
	dg.pieces = append(dg.pieces, piece{off, end, p.Num})
	if dg.total < 0 {
		return nil, false
	}
	// complete when the pieces cover [0, total)
	ps := slices.Clone(dg.pieces)
	slices.SortFunc(ps, func(x, y piece) int { return x.off - y.off })
	covered := 0
	for _, q := range ps {
		if q.off > covered {
			return nil, false
		}
		covered = max(covered, q.end)
	}
	if covered < dg.total {
		return nil, false
	}
	st.datagrams++
	t.drop(dg, false)
	return dg.buf[:dg.total], true
}

func (t *fragTable) malformed(st *fragStat, num int64, why string) {
	st.malformed.add(num)
	if st.malWhy == "" {
		st.malWhy = why
	}
}

// drop removes a datagram, counting it incomplete when asked.
func (t *fragTable) drop(dg *datagram, incomplete bool) {
	if incomplete {
		k := pairKey{src: dg.key.src, dst: dg.key.dst, proto: dg.key.proto, fam: dg.key.fam}
		if st := t.stats[k]; st != nil {
			st.incomplete++
		} else {
			t.other.incomplete++
		}
	}
	t.bytes -= len(dg.buf)
	delete(t.m, dg.key)
	if i := slices.Index(t.order, dg); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
}

// sweep drops datagrams idle for longer than the reassembly timeout.
func (t *fragTable) sweep(now int64) {
	for len(t.order) > 0 && now-t.order[0].lastTime > fragTimeout {
		t.drop(t.order[0], true)
	}
}

// finish counts every datagram still waiting as incomplete.
func (t *fragTable) finish() {
	for len(t.order) > 0 {
		t.drop(t.order[0], true)
	}
}
