package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/mss"
)

// endpoint formats an address and port: 10.0.0.1:80, [2001:db8::1]:80.
func endpoint(fam uint8, a *[16]byte, port uint16) string {
	return netip.AddrPortFrom(addrOf(fam, a), port).String()
}

// names returns the endpoints of direction di of f: sender, receiver.
func (f *flow) names(di int) (string, string) {
	k := &f.key
	a, b := endpoint(k.fam, &k.a, k.pa), endpoint(k.fam, &k.b, k.pb)
	if di == 1 {
		return b, a
	}
	return a, b
}

func (f *flow) dirName(di int) string {
	s, r := f.names(di)
	return s + " > " + r
}

// initiator is the direction whose SYN came first (0 when unknown).
func (f *flow) initiator() int {
	d0, d1 := &f.d[0], &f.d[1]
	if d1.syn && (!d0.syn || d1.synNum < d0.synNum) {
		return 1
	}
	return 0
}

func famOf(fam uint8) encap.Family {
	if fam == 6 {
		return encap.IPv6
	}
	return encap.IPv4
}

// add appends a finding, within the per-code limit.
func (a *Analyzer) add(f Finding) {
	if a.perCode[f.Code] >= a.opt.MaxFindings {
		a.omitted[f.Code]++
		return
	}
	a.perCode[f.Code]++
	if f.Packets == nil {
		f.Packets = []int64{}
	}
	a.findings = append(a.findings, f)
}

// maxAggregates bounds the distinct aggregated findings.
const maxAggregates = 10000

// agg merges one kind of finding over many flows (offload super-packets of
// one sender, the same MSS inside the same tunnel...), so a capture of a
// thousand flows gives one finding, not a thousand.
type agg struct {
	order int
	flows int
	count int64
	nums  evidence
	maxV  int
	first Finding
	who   string
	title func(flows int, count int64, maxV int) string
}

// aggregate adds a flow's finding to the aggregate named by key.
func (a *Analyzer) aggregate(key, who string, fd Finding, v int, title func(flows int, count int64, maxV int) string) {
	g := a.aggs[key]
	if g == nil {
		if len(a.aggs) >= maxAggregates {
			a.omitted[fd.Code]++
			return
		}
		g = &agg{order: len(a.aggs), first: fd, who: who, title: title}
		a.aggs[key] = g
	}
	g.flows++
	g.count += fd.Count
	for _, n := range fd.Packets {
		if g.nums.n < maxEvidence {
			g.nums.add(n)
		} else {
			g.nums.n++
		}
	}
	g.maxV = max(g.maxV, v)
}

// flushAggregates emits the aggregated findings, in order of first sight.
func (a *Analyzer) flushAggregates() {
	gs := make([]*agg, 0, len(a.aggs))
	for _, g := range a.aggs {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(x, y *agg) int { return x.order - y.order })
	for _, g := range gs {
		fd := g.first
		if g.flows > 1 {
			unit := "flows"
			if fd.Code == CodeTunnelMSS || fd.Code == CodeMSSClamped {
				unit = "SYNs"
			}
			fd.Flow = fmt.Sprintf("%s (%d %s)", g.who, g.flows, unit)
			fd.Title = g.title(g.flows, g.count, g.maxV)
			fd.Count = g.count
			fd.Packets = g.nums.list()
			slices.Sort(fd.Packets)
		}
		a.add(fd)
	}
	clear(a.aggs)
}

// finishFlow turns a flow's state into findings and a flow table row.
func (a *Analyzer) finishFlow(f *flow) {
	var codes []string
	note := func(c string) {
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	for di := range f.d {
		d := &f.d[di]
		if d.r != nil && d.r.st.active {
			a.endStall(d, 0)
		}
	}
	for di := range f.d {
		for _, c := range a.flowFindings(f, di) {
			note(c)
		}
	}
	a.pm.flow(f)
	a.addRow(f, codes)
}

// lazyNames formats a direction's endpoints only when a finding needs
// them: most flows have none, and formatting addresses is the costliest
// part of finishing a flow.
type lazyNames struct {
	f                      *flow
	di                     int
	done                   bool
	sender, receiver, name string
	senderIP               string
}

func (l *lazyNames) get() *lazyNames {
	if !l.done {
		l.sender, l.receiver = l.f.names(l.di)
		l.name = l.sender + " > " + l.receiver
		src := &l.f.key.a
		if l.di == 1 {
			src = &l.f.key.b
		}
		l.senderIP = addrOf(l.f.key.fam, src).String()
		l.done = true
	}
	return l
}

// flowFindings makes the findings of direction di of f.
func (a *Analyzer) flowFindings(f *flow, di int) []string {
	d, peer := &f.d[di], &f.d[1-di]
	x := d.rd()
	fam := f.key.fam
	ln := &lazyNames{f: f, di: di}
	hdr := ipTCPHeaders(fam)
	var codes []string
	emit := func(fd Finding) {
		fd.Flow = ln.get().name
		a.add(fd)
		codes = append(codes, fd.Code)
	}
	merge := func(key, who string, fd Finding, v int, title func(int, int64, int) string) {
		fd.Flow = ln.get().name
		a.aggregate(fd.Code+"|"+key, who, fd, v, title)
		codes = append(codes, fd.Code)
	}

	if bh, ok := a.blackhole(f, di); ok {
		emit(bh)
	}

	for _, e := range x.ptbs {
		emit(a.ptbFinding(e, ln.get().sender, ln.get().receiver))
	}

	if x.syns != nil {
		if fd, ok := synMSSFinding(d, ln.get().sender); ok {
			emit(fd)
		}
	}
	if d.syn && d.opts.MSS > 0 {
		m := int(d.opts.MSS)
		switch {
		case x.mssOtherSet && x.mssOther > 0:
			lo := min(m, int(x.mssOther))
			emit(Finding{Code: CodeMSSClamped, Severity: SeverityInfo, MSS: lo, MTU: lo + hdr,
				Title:   fmt.Sprintf("the MSS of %s's SYN was rewritten from %d to %d between two capture points", ln.get().sender, max(m, int(x.mssOther)), lo),
				Detail:  fmt.Sprintf("the same SYN (sequence number %d) carried MSS %d at one capture point (packet %d) and %d at another (packet %d): a middlebox between them clamps the MSS, for a path MTU of %d", d.synSeq, m, d.synNum, x.mssOther, x.mssOtherNum, lo+hdr),
				Packets: []int64{d.synNum, x.mssOtherNum}, Count: 2,
				Fix: "nothing to fix if the clamp matches the narrowest link: it keeps TCP working where ICMP is filtered; UDP, QUIC and ICMP still need a right tunnel MTU"})
		case d.maxPayload > m:
			emit(Finding{Code: CodeMSSClamped, Severity: SeverityInfo, MSS: m, MTU: m + hdr,
				Title:   fmt.Sprintf("%s announced MSS %d but itself sent %d-byte segments", ln.get().sender, m, d.maxPayload),
				Detail:  fmt.Sprintf("a host derives its MSS from its own link MTU (RFC 6691), and this one sends packets of %d bytes, so its SYN (packet %d) must have been lowered on the way: a middlebox clamps the MSS to %d", d.maxIPLen, d.synNum, m),
				Packets: []int64{d.synNum, d.maxPayNum}, Count: 2,
				Fix: "nothing to fix if the clamp matches the narrowest link on the path"})
		case m >= lowMSS(fam) && !d.synMSSChanged():
			if why := a.clampWhy(m, fam, a.flowTunnel(f)); why != "" {
				merge(itoa(m)+"|"+why, fmt.Sprintf("MSS %d", m), Finding{Code: CodeMSSClamped, Severity: SeverityInfo, MSS: m, MTU: m + hdr,
					Title:   fmt.Sprintf("MSS %d in %s's SYN looks clamped", m, ln.get().sender),
					Detail:  why,
					Packets: []int64{d.synNum}, Count: 1,
					Fix: "nothing to fix if a clamp is intended; compare with a capture on the sending host to confirm"}, 0,
					func(flows int, _ int64, _ int) string {
						return fmt.Sprintf("MSS %d in %d SYNs looks clamped", m, flows)
					})
			}
		}
		if low := lowMSS(fam); m < low {
			emit(Finding{Code: CodeMSSLow, Severity: SeverityWarning, MSS: m,
				Title:   fmt.Sprintf("%s announced MSS %d, below the %d every %s path carries", ln.get().sender, m, low, famOf(fam)),
				Detail:  fmt.Sprintf("the peer may send at most %d bytes per segment; Linux raises such values to tcp_min_snd_mss (48), and tiny MSS values are a known resource-exhaustion attack (CVE-2019-11479)", m),
				Packets: []int64{d.synNum}, Count: 1,
				Fix: fmt.Sprintf("find what sets MSS %d (a misconfigured clamp, or a scan); clamp to the path MTU less %d instead", m, hdr)})
		}
		if fd, ok := a.tunnelMSS(f, d, m); ok {
			spec := a.flowTunnel(f)
			merge(spec+"|"+itoa(m), spec, fd, 0, func(flows int, _ int64, _ int) string {
				return fmt.Sprintf("MSS %d announced in %d SYNs inside %s (%d bytes of encapsulation)", m, flows, spec, f.overhead)
			})
		}
	}

	if x.oversize.n > 0 {
		emit(Finding{Code: CodeOversizeSegment, Severity: SeverityWarning, MSS: x.overLimit,
			Title:   fmt.Sprintf("%s sent %d segments larger than the MSS %s allows (%d)", ln.get().sender, x.oversize.n, ln.get().receiver, x.overLimit),
			Detail:  fmt.Sprintf("the largest carried %d bytes; %s; they are not offload artifacts, since they fit the sender's own link (%d bytes)", x.maxOver, mssSource(peer), ownMTU(d, fam)),
			Packets: x.oversize.list(), Count: x.oversize.n,
			Fix: "the sender ignores the MSS its peer announced, or a middlebox rewrote the peer's SYN after the sender saw it: compare captures on both sides of each middlebox, and clamp in both directions"})
	}
	// the title closures outlive this call: they take the sender's address,
	// not ln, which then stays on the stack (one allocation less per flow
	// direction, most of the garbage of finishing flows)
	if x.offload.n > 0 {
		ip := ln.get().senderIP
		merge(ip, ip, Finding{Code: CodeOffload, Severity: SeverityInfo,
			Title:   fmt.Sprintf("%d packets from %s of up to %d bytes are segmentation-offload super-packets", x.offload.n, ln.get().sender, x.maxOffl),
			Detail:  fmt.Sprintf("larger than the sender's link allows (%d bytes%s) or with an IP length of 0: the capture was taken on a host with TSO/GSO (sending) or GRO/LRO (receiving), or BIG TCP; the NIC cut them into MSS-sized segments, so these sizes never crossed the wire and are not MSS violations", ownMTU(d, fam), ownMTUSource(d)),
			Packets: x.offload.list(), Count: x.offload.n,
			Fix: "nothing to fix on the network; to see wire sizes, capture on another host or turn offloads off first (ethtool -K IF tso off gso off gro off)"}, x.maxOffl,
			func(flows int, count int64, maxV int) string {
				return fmt.Sprintf("%d packets from %s in %d flows, of up to %d bytes, are segmentation-offload super-packets", count, ip, flows, maxV)
			})
	}
	if x.badOpt.n > 0 {
		what, ip := x.badWhat, ln.get().senderIP
		merge(ip+"|"+what.String(), ip, Finding{Code: CodeBadTCPOption, Severity: SeverityWarning,
			Title:   fmt.Sprintf("%d segments from %s carry malformed TCP options (%s)", x.badOpt.n, ln.get().sender, x.badWhat),
			Detail:  badOptionDetail(x.badWhat),
			Packets: x.badOpt.list(), Count: x.badOpt.n,
			Fix: "find the stack or middlebox writing these options (compare captures on both sides of each middlebox); receivers ignore a malformed MSS option and fall back to 536 (IPv4) / 1220 (IPv6)"}, 0,
			func(flows int, count int64, _ int) string {
				return fmt.Sprintf("%d segments from %s in %d flows carry malformed TCP options (%s)", count, ip, flows, what)
			})
	}
	return codes
}

func lowMSS(fam uint8) int {
	if fam == 6 {
		return 1220 // 1280 - 60
	}
	return 536
}

func mssSource(peer *dir) string {
	if peer.opts.MSS > 0 {
		return fmt.Sprintf("the peer's SYN (packet %d) announced MSS %d", peer.synNum, peer.opts.MSS)
	}
	return fmt.Sprintf("the peer's SYN (packet %d) had no MSS option, so the default applies (RFC 9293 §3.7.1)", peer.synNum)
}

func ownMTUSource(d *dir) string {
	if d.syn && d.opts.MSS > 0 {
		return fmt.Sprintf(", from its SYN's MSS %d", d.opts.MSS)
	}
	return ", assumed: its SYN was not captured"
}

func badOptionDetail(a mss.Anomaly) string {
	var parts []string
	if a&mss.AnomalyDuplicateMSS != 0 {
		parts = append(parts, "two MSS options: the Linux TCPMSS target lowers only the first while Linux receivers keep the last, so the second bypasses a clamp")
	}
	if a&(mss.AnomalyBadLength|mss.AnomalyPastDataOffset|mss.AnomalyTruncated) != 0 {
		parts = append(parts, "an option length that breaks the walk: receivers stop reading options there")
	}
	if a&mss.AnomalyKindLength != 0 {
		parts = append(parts, "a known option with a length its RFC forbids: receivers ignore it (RFC 9293 §3.7.1 for MSS)")
	}
	if a&mss.AnomalyMSSNotSYN != 0 {
		parts = append(parts, "an MSS option outside a SYN, which RFC 9293 §3.2 forbids")
	}
	if a&mss.AnomalySYNOnly != 0 {
		parts = append(parts, "window scale or SACK-permitted outside a SYN (RFC 7323, RFC 2018)")
	}
	if a&mss.AnomalyMSSZero != 0 {
		parts = append(parts, "an MSS of 0, which Linux ignores")
	}
	if a&mss.AnomalyWScaleRange != 0 {
		parts = append(parts, "a window scale above 14, which receivers treat as 14 (RFC 7323 §2.3)")
	}
	if a&mss.AnomalyAfterEOL != 0 {
		parts = append(parts, "bytes after End of Option List, which receivers never read but the Linux TCPMSS target rewrites")
	}
	if a&mss.AnomalyDuplicate != 0 {
		parts = append(parts, "an option repeated")
	}
	return strings.Join(parts, "; ")
}

// blackhole decides whether direction di of f stalled in a PMTUD black hole.
func (a *Analyzer) blackhole(f *flow, di int) (Finding, bool) {
	return a.blackholeIn(f, di, &f.d[di].rd().bh, &a.pm)
}

// blackholeIn decides whether stall bh of direction di of f is a PMTUD
// black hole, and records the path MTU bounds it sets in pm.
func (a *Analyzer) blackholeIn(f *flow, di int, bh *stall, pm *pathMTU) (Finding, bool) {
	d, peer := &f.d[di], &f.d[1-di]
	switch {
	case bh.tx < 3, !bh.steady:
		return Finding{}, false // no repeated, backed-off retransmission
	case !d.syn || !peer.syn:
		return Finding{}, false // the handshake was not seen complete
	case bh.resolved == 1, d.maxDelivered >= bh.size:
		return Finding{}, false // segments that large do get through: loss, not MTU
	case bh.ptb || len(d.rd().ptbs) > 0:
		return Finding{}, false // ICMP arrived: see the ptb findings
	case peer.rst:
		return Finding{}, false // the receiver closed
	case bh.peerZero:
		return Finding{}, false // zero-window probing
	case bh.size < 64 || bh.size*4 < d.maxPayload*3:
		return Finding{}, false // not a full-size segment
	}
	var why string
	switch {
	case bh.resolved == 2:
		why = fmt.Sprintf("the same data got through only when resent in smaller segments (packet %d)", bh.shrunk)
	case d.maxDelivered > 0:
		why = fmt.Sprintf("segments of up to %d bytes were acknowledged (packet %d)", d.maxDelivered, d.maxDelivNum)
	case bh.peerNum > 0:
		why = fmt.Sprintf("the peer kept sending (packet %d) while none of them arrived", bh.peerNum)
	default:
		return Finding{}, false // nothing shows that smaller packets pass
	}
	sender, _ := f.names(di)
	lo := d.maxDelivIP
	hi := bh.ipLen - 1
	span := float64(bh.prev-bh.first) / 1e9
	fam := famOf(f.key.fam)
	detail := fmt.Sprintf("%s; no ICMP fragmentation-needed or packet-too-big arrived for this flow", why)
	if lo > 0 {
		detail += fmt.Sprintf(", so the path MTU is between %d and %d", lo, hi)
	} else {
		detail += fmt.Sprintf(", so the path MTU is below %d", bh.ipLen)
	}
	pm.blackhole(lo, hi, bh.nums.nums[0])
	return Finding{Code: CodeBlackhole, Severity: SeverityError,
		Title:   fmt.Sprintf("%d-byte segments (%d-byte packets) from %s were sent %d times over %.1f s with back-off and never acknowledged", bh.size, bh.ipLen, sender, bh.tx, span),
		Detail:  detail,
		Packets: bh.nums.list(), Count: int64(bh.tx),
		Fix: fmt.Sprintf("let ICMP type 3 code 4 (and ICMPv6 type 2) through every firewall on the path; meanwhile clamp the MSS on the router before the narrow link to at most %d (%s), or turn on net.ipv4.tcp_mtu_probing=1 on the sender; `mtukit probe` finds the exact path MTU",
			mss.ForMTU(hi, fam), fam)}, true
}

// ptbFinding describes one PTB event.
func (a *Analyzer) ptbFinding(e *ptbEvent, sender, receiver string) Finding {
	router := addrOf(e.fam, &e.router).String()
	what := "ICMP fragmentation-needed"
	if e.fam == 6 {
		what = "ICMPv6 packet-too-big"
	}
	fd := Finding{MTU: e.mtu, Packets: e.nums.list(), Count: e.count}
	quoted := fmt.Sprintf("quoting a %d-byte packet from %s to %s", e.quote.TotalLen, sender, receiver)
	if e.suspect != "" {
		fd.Code, fd.Severity = CodePTBSuspicious, SeverityWarning
		fd.Title = fmt.Sprintf("%s from %s (MTU %d) looks forged or wrong: %s", what, router, e.mtu, e.suspect)
		fd.Detail = quoted + "; a sender must only act on a PTB that quotes a packet it sent (RFC 5927, RFC 8899 §4.6)"
		fd.Fix = fmt.Sprintf("find who sends these (source %s): a broken router, or an attack that lowers the path MTU", router)
		return fd
	}
	mtuText := fmt.Sprintf("MTU %d", e.mtu)
	if e.mtu == 0 {
		mtuText = "no MTU (a pre-RFC 1191 router)"
	}
	fd.Title = fmt.Sprintf("%s from %s says %s, %s", what, router, mtuText, quoted)
	if e.mtu > 0 {
		a.pm.ptb(e.mtu, e.num)
	}
	fam := famOf(e.fam)
	clamp := mss.ForMTU(e.mtu, fam)
	switch {
	case !e.matched:
		fd.Code, fd.Severity = CodePTB, SeverityInfo
		fd.Detail = "the quoted flow is not in the capture, so whether its sender reacted is unknown"
		fd.Fix = fmt.Sprintf("if this path is yours, clamp the MSS to %d (%s) on the router before the %d-byte link", clamp, fam, e.mtu)
	case e.reaction() == reactIgnored:
		fd.Code, fd.Severity = CodePTBIgnored, SeverityError
		fd.Detail = fmt.Sprintf("the sender went on sending %d packets larger than %d afterwards: it never lowered its path MTU", e.afterBig.n, e.mtu)
		fd.Packets = append(fd.Packets, e.afterBig.list()...)
		fd.Fix = fmt.Sprintf("the sending host drops or rejects the ICMP: check its firewall input rules for ICMP type 3 code 4 / ICMPv6 type 2; meanwhile clamp the MSS to %d (%s) on the router before the %d-byte link", clamp, fam, e.mtu)
	case e.reaction() == reactShrank:
		fd.Code, fd.Severity = CodePTB, SeverityInfo
		fd.Detail = fmt.Sprintf("the sender shrank its packets to %d bytes or less (from packet %d): path MTU discovery works here", e.mtu, e.firstSmall)
		fd.Packets = append(fd.Packets, e.firstSmall)
		fd.Fix = fmt.Sprintf("nothing is broken; to spare each new connection the lost first round trip, clamp the MSS to %d (%s) on the router before the %d-byte link", clamp, fam, e.mtu)
	default:
		fd.Code, fd.Severity = CodePTB, SeverityInfo
		fd.Detail = "the sender sent no more data after it, so whether it reacted is unknown"
		fd.Fix = fmt.Sprintf("clamp the MSS to %d (%s) on the router before the %d-byte link", clamp, fam, e.mtu)
	}
	return fd
}

// knownClamps are MSS values that vendors use as default or recommended
// clamps, with the source.
var knownClamps = map[int]string{
	1380: "the default of Cisco ASA (sysopt connection tcpmss 1380)",
	1360: "Cisco's recommended ip tcp adjust-mss for GRE and IPsec tunnels (ip mtu 1400)",
}

type clampKey struct {
	m      int
	fam    uint8
	tunnel string
}

// clampWhy is clampEvidence, remembered per value.
func (a *Analyzer) clampWhy(m int, fam uint8, tunnel string) string {
	k := clampKey{m, fam, tunnel}
	if v, ok := a.clampWhys[k]; ok {
		return v
	}
	v := clampEvidence(m, fam, tunnel)
	if a.clampWhys == nil {
		a.clampWhys = map[clampKey]string{}
	}
	a.clampWhys[k] = v
	return v
}

// clampEvidence explains why an MSS value suggests a clamp, or returns "".
// tunnel is the calc spec of the tunnel the flow rides in ("" if none).
func clampEvidence(m int, fam uint8, tunnel string) string {
	hdr := ipTCPHeaders(fam)
	if src, ok := knownClamps[m]; ok && fam == 4 {
		return fmt.Sprintf("MSS %d is %s; a host would derive its MSS from its own link MTU (RFC 6691), which would have to be %d", m, src, m+hdr)
	}
	if tunnel != "" {
		if st, err := encap.Parse(tunnel); err == nil {
			if t, err := st.TunnelMTU(1500); err == nil && t == m+hdr {
				return fmt.Sprintf("MSS %d is exactly what the %s tunnel this flow rides in leaves on a 1500-byte link (MTU %d less %d): the tunnel's MSS clamp, or a host whose own interface is the tunnel", m, tunnel, t, hdr)
			}
		}
	}
	if names := tunnelsLeaving(m+hdr, famOf(fam)); len(names) > 0 {
		return fmt.Sprintf("MSS %d is exactly what %s on a 1500-byte link leaves (MTU %d less %d): a clamp set for that tunnel, or a host whose own interface is that tunnel", m, strings.Join(names, " or "), m+hdr, hdr)
	}
	if !plausibleMTU(m + hdr) {
		return fmt.Sprintf("no host picks MSS %d for its own link: that implies an interface MTU of %d, which no common link or tunnel (calc's catalog on a 1500- or 9000-byte link) has, so a middlebox probably lowered it", m, m+hdr)
	}
	return ""
}
