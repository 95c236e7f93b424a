package capture

import (
	"fmt"
	"strings"
)

// A direction may send more than one SYN with different options: a SYN
// retransmitted without the TCP Fast Open cookie, or with a smaller MSS
// after timeouts (some stacks' black-hole fallback), or a new attempt on
// the same ports. The first SYN is in dir.opts until the handshake shows
// which one the connection used; synHistory keeps them all.

// maxSYNs bounds the distinct SYNs kept per direction.
const maxSYNs = 8

// synSeen is one distinct SYN of a direction: a sequence number and MSS
// (the other options are those of its first copy).
type synSeen struct {
	num, last int64 // first and latest packet that carried it
	count     int64
	seq       uint32
	opts      synOptions
}

// synHistory is the distinct SYNs of a direction that sent more than one
// SYN, in order of first sight (one entry when all were copies).
type synHistory struct {
	s      []synSeen
	more   int64 // SYNs with yet other values, past maxSYNs
	used   int   // index in s of the SYN the handshake completed; -1 unknown
	answer int64 // the peer's packet that completed it
}

// synAgain records a SYN from d after its first one (SYNs are sent again
// only when unanswered, so this is rare: the history is allocated then).
func (a *Analyzer) synAgain(d *dir, p *Packet, opts synOptions) {
	var h *synHistory
	if d.r != nil {
		h = d.r.syns
	}
	seq := p.TCP.Seq
	if h == nil {
		h = &synHistory{used: -1, s: make([]synSeen, 1, 2)}
		h.s[0] = synSeen{num: d.synNum, last: d.synNum, count: 1, seq: d.synSeq, opts: d.opts}
		d.wr().syns = h
	}
	for i := range h.s {
		if s := &h.s[i]; s.seq == seq && s.opts.MSS == opts.MSS {
			s.last, s.count = p.Num, s.count+1
			return
		}
	}
	if len(h.s) >= maxSYNs {
		h.more++
		return
	}
	h.s = append(h.s, synSeen{num: p.Num, last: p.Num, count: 1, seq: seq, opts: opts})
}

// synAnswered looks at an acknowledgment p from d's peer: when it
// acknowledges one of d's SYNs (a SYN-ACK answering a SYN, or the ACK
// completing a SYN-ACK), the connection uses that SYN's options. Among SYNs
// with that sequence number, the last one sent before p is taken: a host
// retransmits a SYN that got no answer, so the earlier copies are most
// likely the ones lost (when the answer itself was lost, the peer may hold
// an earlier copy's options: Linux keeps the first SYN's MSS for a
// retransmission of the same sequence number; see docs/analyze.md).
func (a *Analyzer) synAnswered(d *dir, p *Packet) {
	h := d.r.syns
	ack := p.TCP.Ack
	best := -1
	for i := range h.s {
		s := &h.s[i]
		if s.seq+1 != ack || s.num > p.Num {
			continue
		}
		if best < 0 || latestBefore(s, p.Num) > latestBefore(&h.s[best], p.Num) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	h.used, h.answer = best, p.Num
	u := &h.s[best]
	d.opts, d.synNum, d.synSeq = u.opts, u.num, u.seq
	// the peer's segments are held to the largest MSS of the SYNs it may
	// have taken (every copy with this sequence number), so that a peer
	// that kept an earlier copy's larger value is not called oversize
	d.mss = 0
	for i := range h.s {
		if h.s[i].seq == u.seq {
			d.mss = max(d.mss, h.s[i].opts.MSS)
		}
	}
}

// latestBefore is the latest packet number of s before num: its last copy
// when that came before num, else its first.
func latestBefore(s *synSeen, num int64) int64 {
	if s.last < num {
		return s.last
	}
	return s.num
}

// synHad reports whether d's own SYNs carried MSS m (so the same value seen
// at another capture point is not a rewrite).
func (d *dir) synHad(m uint16) bool {
	if d.r == nil || d.r.syns == nil {
		return false
	}
	for _, s := range d.r.syns.s {
		if s.opts.MSS == m {
			return true
		}
	}
	return false
}

// synMSSChanged reports whether d's SYNs carried more than one MSS value:
// the host changed it itself (a middlebox clamps every copy alike), so the
// value it used is not a guess at a clamp.
func (d *dir) synMSSChanged() bool {
	if d.r == nil || d.r.syns == nil {
		return false
	}
	for _, s := range d.r.syns.s[1:] {
		if s.opts.MSS != d.r.syns.s[0].opts.MSS {
			return true
		}
	}
	return false
}

// SYNSeen is one of several SYNs a direction sent with different values.
type SYNSeen struct {
	Packet int64  `json:"packet"` // the first that carried these values
	Count  int64  `json:"count"`  // copies sent
	Seq    uint32 `json:"seq"`
	MSS    int    `json:"mss"` // 0: no MSS option
	// Used marks the SYN the handshake completed (the SYN-ACK answered
	// it, or the ACK that completed a SYN-ACK); none is marked when the
	// handshake was not seen.
	Used bool `json:"used,omitempty"`
}

// synList is the flow table's list of d's SYNs, when it sent several
// distinct ones.
func (d *dir) synList() []SYNSeen {
	if d.r == nil || d.r.syns == nil || len(d.r.syns.s) < 2 {
		return nil
	}
	h := d.r.syns
	out := make([]SYNSeen, len(h.s))
	for i, s := range h.s {
		out[i] = SYNSeen{Packet: s.num, Count: s.count, Seq: s.seq, MSS: int(s.opts.MSS), Used: i == h.used}
	}
	return out
}

// synMSSFinding is the info finding for a direction whose SYNs announced
// more than one MSS: each value, and the one the connection used.
func synMSSFinding(d *dir, sender string) (Finding, bool) {
	if d.r == nil || d.r.syns == nil || len(d.r.syns.s) < 2 {
		return Finding{}, false
	}
	h := d.r.syns
	vals := map[uint16]bool{}
	var parts []string
	nums := make([]int64, 0, len(h.s))
	for _, s := range h.s {
		vals[s.opts.MSS] = true
		v := "no MSS"
		if s.opts.MSS > 0 {
			v = "MSS " + itoa(int(s.opts.MSS))
		}
		if s.count > 1 {
			v += fmt.Sprintf(" (%d copies)", s.count)
		}
		parts = append(parts, fmt.Sprintf("packet %d: %s", s.num, v))
		if len(nums) < maxEvidence {
			nums = append(nums, s.num)
		}
	}
	if len(vals) < 2 {
		return Finding{}, false // other sequence numbers, one MSS: nothing for this finding
	}
	fd := Finding{Code: CodeSYNMSSChanged, Severity: SeverityInfo, Packets: nums, Count: int64(len(h.s)) + h.more}
	detail := "the SYNs: " + strings.Join(parts, "; ")
	if h.more > 0 {
		detail += fmt.Sprintf("; and %d more with other values", h.more)
	}
	if h.used >= 0 {
		u := h.s[h.used]
		fd.MSS = int(u.opts.MSS)
		fd.Title = fmt.Sprintf("%s sent SYNs with %d different MSS values; the connection used MSS %d", sender, len(vals), u.opts.MSS)
		if u.opts.MSS == 0 {
			fd.Title = fmt.Sprintf("%s sent SYNs with %d different MSS values; the connection used the SYN without one", sender, len(vals))
		}
		detail += fmt.Sprintf(". Packet %d acknowledged sequence number %d, completing the handshake with the SYN of packet %d (the last one with that sequence number sent before it)", h.answer, u.seq, u.num)
	} else {
		fd.Title = fmt.Sprintf("%s sent SYNs with %d different MSS values; the handshake was not seen", sender, len(vals))
		detail += ". No answer acknowledging any of them was captured, so which one the peer took is unknown; the first is reported"
	}
	fd.Detail = detail
	fd.Fix = "nothing to fix by itself: a SYN retransmitted with a smaller MSS (a stack's black-hole fallback) or without a TCP Fast Open cookie; a smaller value after timeouts points to large packets being lost on the path"
	return fd, true
}

// synMSSColumn is the flow table's SYN MSS cell for several SYNs:
// "1460,1200*", the used one starred.
func synMSSColumn(ss []SYNSeen) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = "none"
		if s.MSS > 0 {
			parts[i] = itoa(s.MSS)
		}
		if s.Used {
			parts[i] += "*"
		}
	}
	return strings.Join(parts, ",")
}
