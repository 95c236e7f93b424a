package capture

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/gopacket/gopacket/layers"

	"github.com/mtukit/mtukit/advise"
	"github.com/mtukit/mtukit/mss"
)

// pathMTU gathers what the capture implies about the path MTU.
type pathMTU struct {
	ptbMin   int // smallest MTU in a PTB that did not look forged
	ptbNum   int64
	bhLo     int // black hole: largest packet delivered...
	bhHi     int // ...and smallest packet that vanished, less one
	bhNum    int64
	bhSeen   bool
	fragMax  int // largest fragment: the fragmenting link's MTU is at least this
	fragNum  int64
	mssMTU   int // smallest MTU an MSS implies (MSS + 40 / 60)
	mssNum   int64
	mssFam   uint8
	stacks   map[Stack]int64 // TCP flows per encapsulation
	overhead map[Stack]int
}

func (m *pathMTU) ptb(mtu int, num int64) {
	if m.ptbMin == 0 || mtu < m.ptbMin {
		m.ptbMin, m.ptbNum = mtu, num
	}
}

func (m *pathMTU) blackhole(lo, hi int, num int64) {
	if !m.bhSeen || hi < m.bhHi {
		m.bhHi, m.bhNum = hi, num
	}
	m.bhLo = max(m.bhLo, lo)
	m.bhSeen = true
}

func (m *pathMTU) flow(f *flow) {
	for i := range f.d {
		d := &f.d[i]
		if !d.syn {
			continue
		}
		// the MSS as announced, and as a middlebox rewrote it
		mssv, num := int(d.opts.MSS), d.synNum
		if x := d.rd(); x.mssOtherSet && x.mssOther > 0 && int(x.mssOther) < mssv {
			mssv, num = int(x.mssOther), x.mssOtherNum
		}
		if mssv >= lowMSS(f.key.fam) {
			v := mssv + ipTCPHeaders(f.key.fam)
			if m.mssMTU == 0 || v < m.mssMTU {
				m.mssMTU, m.mssNum, m.mssFam = v, num, f.key.fam
			}
		}
	}
	if f.stack.Len() > 0 {
		if m.stacks == nil {
			m.stacks, m.overhead = map[Stack]int64{}, map[Stack]int{}
		}
		m.stacks[f.stack]++
		if f.overhead > 0 && !f.stack.Has(LayerERSPAN) {
			m.overhead[f.stack] = f.overhead
		}
	}
}

// Report finishes the analysis (every flow still open is finished) and
// returns the report. Call it once, after the last packet.
func (a *Analyzer) Report() *Report {
	// flush the run-length counters
	if a.lastLinkN > 0 {
		a.links[a.lastLink] += a.lastLinkN
		a.lastLinkN = 0
	}
	a.flushStacks()
	// finish flows in a stable order
	fs := make([]*flow, 0, a.flows.n)
	a.flows.each(func(f *flow) { fs = append(fs, f) })
	slices.SortFunc(fs, func(x, y *flow) int { return cmp.Compare(x.firstNum, y.firstNum) })
	// the table's final size at once, not doubling through the garbage
	if need := min(a.opt.FlowTable, len(a.table)+len(fs)); cap(a.table) < need {
		a.table = slices.Grow(a.table, need-len(a.table))
	}
	for _, f := range fs {
		a.finishFlow(f)
	}
	a.flows.init()
	a.flows.n = 0
	a.last = nil
	for _, e := range a.ptbLoose {
		f := a.ptbFinding(e, addrOf(e.quote.Family, &e.quote.Src).String(), addrOf(e.quote.Family, &e.quote.Dst).String())
		f.Flow = quoteFlow(&e.quote)
		a.add(f)
	}
	a.ptbLoose = nil
	a.flushAggregates()
	a.frags.finish()
	a.fragFindings()
	if a.malformed.n > 0 {
		a.add(Finding{Code: CodeMalformedPacket, Severity: SeverityWarning,
			Title:   fmt.Sprintf("%d packets have headers that do not parse", a.malformed.n),
			Detail:  strings.Join(a.malWhy, "; "),
			Packets: a.malformed.list(), Count: a.malformed.n,
			Fix: "look at these packets in Wireshark: a broken sender, a corrupting link, or a crafted packet; the analysis skipped them"})
	}

	r := &Report{
		File:      a.opt.Name,
		Format:    a.format,
		Packets:   a.packets,
		Bytes:     a.bytes,
		Flows:     a.nflows,
		NonIP:     a.nonIP,
		Malformed: a.malformed.n,
		Truncated: a.truncated.n,
		Findings:  a.findings,
	}
	if a.packets > 0 {
		r.Duration = float64(a.lastTime-a.firstTime) / 1e9
	}
	if len(a.omitted) > 0 {
		r.Omitted = a.omitted
	}
	for lt, n := range a.links {
		r.LinkTypes = append(r.LinkTypes, Count{linkName(lt), n})
	}
	for s, n := range a.stacks {
		name := s.String()
		if name == "" {
			name = "(undecoded)"
		}
		r.Encapsulations = append(r.Encapsulations, Count{name, n})
	}
	byCount := func(x, y Count) int {
		if c := cmp.Compare(y.Packets, x.Packets); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	}
	slices.SortFunc(r.LinkTypes, byCount)
	slices.SortFunc(r.Encapsulations, byCount)
	if r.LinkTypes == nil {
		r.LinkTypes = []Count{}
	}
	if r.Encapsulations == nil {
		r.Encapsulations = []Count{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	slices.SortStableFunc(r.Findings, func(x, y Finding) int {
		if x.Severity != y.Severity {
			return cmp.Compare(y.Severity, x.Severity)
		}
		if c := cmp.Compare(codeOrder[x.Code], codeOrder[y.Code]); c != 0 {
			return c
		}
		return cmp.Compare(firstNum(x.Packets), firstNum(y.Packets))
	})
	a.sortTable()
	r.FlowTable = a.table
	r.FlowsOmitted = a.nflows - int64(len(a.table))
	r.Summary = a.summary(r)
	return r
}

func firstNum(ns []int64) int64 {
	if len(ns) == 0 {
		return 0
	}
	return ns[0]
}

func quoteFlow(q *Quote) string {
	if q.Family == 0 {
		return ""
	}
	if q.HasPorts {
		return endpoint(q.Family, &q.Src, q.SrcPort) + " > " + endpoint(q.Family, &q.Dst, q.DstPort)
	}
	return addrOf(q.Family, &q.Src).String() + " > " + addrOf(q.Family, &q.Dst).String()
}

func linkName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeEthernet:
		return "ethernet"
	case layers.LinkTypeLinuxSLL:
		return "linux-sll"
	case layers.LinkTypeLinuxSLL2:
		return "linux-sll2"
	case layers.LinkTypeRaw, linkTypeRawOld, linkTypeRawOpenBSD:
		return "raw-ip"
	case layers.LinkTypeIPv4:
		return "raw-ipv4"
	case layers.LinkTypeIPv6:
		return "raw-ipv6"
	case layers.LinkTypeNull:
		return "null"
	case layers.LinkTypeLoop:
		return "loop"
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return "ppp"
	}
	if fr, ok := mss.LinkFraming(int(lt)); ok {
		return fr.String() // the locator's name for the newer framings
	}
	return fmt.Sprintf("linktype-%d", int(lt))
}

// summary works out the path MTU the capture implies and the clamp for it.
func (a *Analyzer) summary(r *Report) Summary {
	m := &a.pm
	s := Summary{LargestPacket: a.maxOuter, LargestPacketNum: a.maxOuterN}
	for _, st := range a.frags.stats {
		if realFragSize(st) && (st.maxFrag > m.fragMax || (st.maxFrag == m.fragMax && st.maxFragN < m.fragNum)) {
			m.fragMax, m.fragNum = st.maxFrag, st.maxFragN
		}
	}
	switch {
	case m.ptbMin > 0:
		s.PathMTU, s.Source, s.Packets = m.ptbMin, "ICMP packet-too-big", []int64{m.ptbNum}
	case m.bhSeen:
		s.PathMTUMin, s.PathMTUMax, s.Source = m.bhLo, m.bhHi, "black hole: the largest packet delivered and the smallest that vanished"
		if s.PathMTUMin == 0 {
			s.PathMTUMin = 68
		}
	case m.fragMax > 0:
		s.PathMTU, s.Source, s.Packets = m.fragMax, "the largest IP fragment (the fragmenting link's MTU is at least this)", []int64{m.fragNum}
	case m.mssMTU > 0:
		s.PathMTU, s.Source, s.Packets = m.mssMTU, "the smallest MSS announced, plus "+itoa(ipTCPHeaders(m.mssFam))+" bytes of headers", []int64{m.mssNum}
	}
	if s.PathMTU > 0 {
		// the clamp is calc's: a plain link of the path MTU
		if c, err := advise.Calc(advise.Options{LinkMTU: s.PathMTU}); err == nil {
			s.ClampIPv4, s.ClampIPv6 = c.MSS.IPv4, c.MSS.IPv6
			s.Calc = fmt.Sprintf("mtukit calc --mtu %d", s.PathMTU)
		}
	}
	// the dominant encapsulation of the TCP flows, when it is a tunnel
	var best Stack
	var bestN int64
	for st, n := range m.stacks {
		if m.overhead[st] > 0 && (n > bestN || (n == bestN && st.String() < best.String())) {
			best, bestN = st, n
		}
	}
	if bestN > 0 {
		o := m.overhead[best]
		s.Tunnel = a.specName(best, o)
		s.TunnelOverhead = o
		s.TunnelMTU1500 = 1500 - o
	}
	worst := ""
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			worst = f.Code
			break
		}
	}
	switch {
	case worst == CodeBlackhole:
		s.Verdict = "a PMTUD black hole: full-size packets vanish and no ICMP says why"
	case worst == CodePTBIgnored:
		s.Verdict = "the path reports a smaller MTU, but the sender ignores it"
	case worst != "":
		s.Verdict = "MTU or MSS trouble: see the errors above"
	case len(r.Findings) > 0:
		s.Verdict = "no MTU failure; see the notes above"
	case r.Packets == 0:
		s.Verdict = "empty capture"
	default:
		s.Verdict = "no MTU or MSS problem found"
	}
	return s
}

// rowHeap holds the flow table while flows finish: a min-heap on
// (has findings, packets, earlier first), so the table keeps the flows with
// findings and then the busiest, and a row is only built for a flow that
// makes it in.
type rowHeap []FlowSummary

func rowLess(x, y *FlowSummary) bool {
	if (len(x.Findings) > 0) != (len(y.Findings) > 0) {
		return len(y.Findings) > 0
	}
	if x.Packets != y.Packets {
		return x.Packets < y.Packets
	}
	return x.FirstPkt > y.FirstPkt
}

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return rowLess(&h[i], &h[j]) }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(FlowSummary)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// addRow adds a finished flow to the flow table, if it ranks.
func (a *Analyzer) addRow(f *flow, codes []string) {
	probe := FlowSummary{Packets: f.pkts, FirstPkt: f.firstNum, Findings: codes}
	full := len(a.table) >= a.opt.FlowTable
	if full && !rowLess(&a.table[0], &probe) {
		return
	}
	row := a.buildRow(f, codes)
	if full {
		a.table[0] = row
		heap.Fix(&a.table, 0)
	} else {
		heap.Push(&a.table, row)
	}
}

func (a *Analyzer) buildRow(f *flow, codes []string) FlowSummary {
	init := f.initiator()
	row := FlowSummary{
		Flow:     f.dirName(init),
		Encap:    f.stack.String(),
		Packets:  f.pkts,
		FirstPkt: f.firstNum,
		Duration: float64(f.lastTime-f.firstTime) / 1e9,
		Findings: codes,
	}
	for i, di := range []int{init, 1 - init} {
		d := &f.d[di]
		x := d.rd()
		sender, _ := f.names(di)
		ds := DirSummary{
			From: sender, Packets: d.pkts, DataPackets: d.dataPkts, Bytes: d.bytes,
			SYN: d.syn, WScale: -1,
			MaxSegment: d.maxPayload, MaxPacket: d.maxIPLen, MaxDelivered: d.maxDelivered,
			Retrans: d.retrans, Offload: x.offload.n,
		}
		if d.syn {
			ds.MSS, ds.WScale, ds.SACKPerm, ds.Timestamps = int(d.opts.MSS), int(d.opts.WScale), d.opts.SACKPerm, d.opts.TS
			ds.SYNs = d.synList()
			if x.mssOtherSet {
				v := int(x.mssOther)
				ds.MSSOtherPoint = &v
			}
		}
		switch {
		case d.df > 0 && d.noDF > 0:
			ds.DF = "mixed"
		case d.df > 0:
			ds.DF = "all"
		case d.noDF > 0:
			ds.DF = "none"
		}
		for _, sc := range x.rsizes {
			if sc.Count > 0 {
				ds.RetransSizes = append(ds.RetransSizes, sc)
			}
		}
		if x.rsizeOther > 0 {
			ds.RetransSizes = append(ds.RetransSizes, sizeCount{Size: 0, Count: x.rsizeOther})
		}
		row.Directions[i] = ds
	}
	return row
}

// sortTable orders the final flow table by first packet.
func (a *Analyzer) sortTable() {
	slices.SortFunc(a.table, func(x, y FlowSummary) int { return cmp.Compare(x.FirstPkt, y.FirstPkt) })
}

// fragFindings turns the fragment statistics into findings.
func (a *Analyzer) fragFindings() {
	sts := make([]*fragStat, 0, len(a.frags.stats)+1)
	for _, st := range a.frags.stats {
		sts = append(sts, st)
	}
	if a.frags.other.fragments.n > 0 || a.frags.other.atomic.n > 0 {
		sts = append(sts, &a.frags.other)
	}
	slices.SortFunc(sts, func(x, y *fragStat) int {
		return cmp.Compare(min(firstNum(x.fragments.list()), firstNumOr(x.atomic)), min(firstNum(y.fragments.list()), firstNumOr(y.atomic)))
	})
	for _, st := range sts {
		a.fragStatFindings(st)
	}
}

// realFragSize reports whether the fragments are large enough to be cut
// at a real link's MTU: 576 for IPv4 (what every host must reassemble,
// RFC 791; no link in use is smaller), 1280 for IPv6 (RFC 8200 §5).
func realFragSize(st *fragStat) bool {
	if st.key.fam == 6 {
		return st.maxFrag >= 1280
	}
	return st.maxFrag >= 576
}

func firstNumOr(e evidence) int64 {
	if e.n == 0 {
		return 1 << 62
	}
	return e.nums[0]
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPv6"
	case 50:
		return "ESP"
	case 47:
		return "GRE"
	}
	return "protocol " + itoa(int(p))
}

func (a *Analyzer) fragStatFindings(st *fragStat) {
	k := &st.key
	hosts := "several hosts"
	if st != &a.frags.other {
		if st.ports {
			hosts = endpoint(k.fam, &k.src, st.sport) + " > " + endpoint(k.fam, &k.dst, st.dport)
		} else {
			hosts = addrOf(k.fam, &k.src).String() + " > " + addrOf(k.fam, &k.dst).String()
		}
	}
	proto := protoName(k.proto)
	if st.fragments.n > 0 {
		sev := SeverityInfo
		if k.proto == 6 {
			sev = SeverityWarning
		}
		title := fmt.Sprintf("%d %s fragments", st.fragments.n, proto)
		detail := fmt.Sprintf("%d datagrams reassembled", st.datagrams)
		if st.incomplete > 0 {
			detail += fmt.Sprintf(", %d never completed in the capture", st.incomplete)
		}
		fd := Finding{Code: CodeFragmentation, Severity: sev, Flow: hosts, Packets: st.fragments.list(), Count: st.fragments.n}
		if st.maxFrag > 0 && !realFragSize(st) {
			title += fmt.Sprintf(", cut to %d bytes", st.maxFrag)
			detail += fmt.Sprintf("; fragments of %d bytes are smaller than any path needs (IPv4 hosts must take 576, IPv6 links carry 1280): the sender chose to fragment, a test or an evasion attempt", st.maxFrag)
		} else if st.maxFrag > 0 {
			hdr := 20
			if k.fam == 6 {
				hdr = 48 // IPv6 and fragment header
			}
			// a fragment carries a multiple of 8 bytes: the link MTU is at
			// least its size and less than the next multiple
			hi := st.maxFrag + 7
			if (st.maxFrag-hdr)%8 != 0 {
				hi = st.maxFrag
			}
			fd.MTU = st.maxFrag
			title += fmt.Sprintf(", cut to %d bytes", st.maxFrag)
			if k.fam == 6 {
				detail += fmt.Sprintf("; IPv6 routers never fragment, so the sender cut them itself, to a path MTU of %d to %d", st.maxFrag, hi)
			} else {
				detail += fmt.Sprintf("; the link where they were cut has an MTU of %d to %d", st.maxFrag, hi)
			}
		}
		fd.Title, fd.Detail = title, detail
		if k.proto == 6 {
			fd.Fix = "TCP should never need fragments: something clears DF or PMTUD is off; clamp the MSS to the path MTU less 40 (IPv4) / 60 (IPv6)"
		} else {
			fd.Fix = "fragments are lost wholesale behind many firewalls and NATs: keep datagrams below the path MTU (DNS: an EDNS buffer of 1232; tunnels: a tunnel MTU that fits the underlay)"
		}
		a.add(fd)
	}
	if st.atomic.n > 0 {
		a.add(Finding{Code: CodeFragmentation, Severity: SeverityInfo, Flow: hosts,
			Title:   fmt.Sprintf("%d IPv6 atomic fragments (fragment header with offset 0 and no more fragments)", st.atomic.n),
			Detail:  "legal to receive (RFC 6946) but deprecated to send (RFC 8021): a sender adds them after an ICMPv6 packet-too-big below 1280, and they enable fragmentation attacks",
			Packets: st.atomic.list(), Count: st.atomic.n,
			Fix: "update the sending stack; filter ICMPv6 packet-too-big with an MTU below 1280"})
	}
	if st.dfConflict.n > 0 {
		a.add(Finding{Code: CodeDFConflict, Severity: SeverityWarning, Flow: hosts,
			Title:   fmt.Sprintf("%d %s fragments have don't-fragment set", st.dfConflict.n, proto),
			Detail:  "a fragment with DF means its sender fragmented locally and still asked routers not to fragment, or a middlebox set DF on fragments: routers drop them where the next link is smaller, and PMTUD cannot help",
			Packets: st.dfConflict.list(), Count: st.dfConflict.n,
			Fix: "find the sender or middlebox that sets DF on fragments (Linux does for UDP with IP_PMTUDISC_DO and a datagram above the interface MTU); size datagrams below the path MTU"})
	}
	if st.overlap.n > 0 {
		sev, what := SeverityWarning, "with the same bytes (duplicates)"
		if st.conflict {
			sev, what = SeverityError, "with different bytes: an IDS evasion attempt or corruption; IPv6 receivers must drop the whole datagram (RFC 5722)"
		}
		a.add(Finding{Code: CodeFragmentOverlap, Severity: sev, Flow: hosts,
			Title:   fmt.Sprintf("%d %s fragments overlap earlier ones", st.overlap.n, proto),
			Detail:  "they overlap " + what,
			Packets: st.overlap.list(), Count: st.overlap.n,
			Fix: "drop overlapping fragments at the edge (Linux does for IPv6 and counts them in ReasmOverlaps); find the sender"})
	}
	if st.malformed.n > 0 {
		a.add(Finding{Code: CodeFragmentMalformed, Severity: SeverityWarning, Flow: hosts,
			Title:   fmt.Sprintf("%d malformed %s fragments", st.malformed.n, proto),
			Detail:  "the first problem: " + st.malWhy,
			Packets: st.malformed.list(), Count: st.malformed.n,
			Fix: "receivers and firewalls drop such fragments (RFC 1858, RFC 7112, RFC 8200 §4.5); find the sender: a broken stack or a crafted attack"})
	}
}
