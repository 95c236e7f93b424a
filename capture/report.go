package capture

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Finding codes. They are stable: scripts and the web page key on them.
// Codes (codes.go) describes each.
const (
	CodeBlackhole         = "blackhole"          // full-size segments vanish, no ICMP: a PMTUD black hole
	CodePTB               = "ptb"                // an ICMP packet-too-big, and the sender shrank (or sent nothing more)
	CodePTBIgnored        = "ptb_ignored"        // an ICMP packet-too-big the sender did not act on
	CodePTBSuspicious     = "ptb_suspicious"     // an ICMP packet-too-big that quotes a packet never sent, or an impossible MTU
	CodeMSSClamped        = "mss_clamped"        // a middlebox rewrites the MSS
	CodeMSSLow            = "mss_low"            // an MSS below what any real link needs
	CodeTunnelMSS         = "tunnel_mss"         // an MSS too large for the tunnel the flow rides in
	CodeFragmentation     = "fragmentation"      // IP fragments: which hosts, at what size
	CodeFragmentOverlap   = "fragment_overlap"   // fragments that overlap
	CodeFragmentMalformed = "fragment_malformed" // tiny, misaligned or oversized fragments
	CodeDFConflict        = "df_conflict"        // IPv4 fragments with don't-fragment set
	CodeOversizeSegment   = "oversize_segment"   // a segment larger than the MSS the peer announced
	CodeOffload           = "offload"            // TSO/GSO/GRO/BIG TCP super-packets: a capture artifact
	CodeBadTCPOption      = "bad_tcp_option"     // malformed TCP options
	CodeMalformedPacket   = "malformed_packet"   // headers that do not parse
	CodeSYNMSSChanged     = "syn_mss_changed"    // one direction's SYNs announced different MSS values
)

// Severity ranks findings.
type Severity int

// Severities, least severe first.
const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityError
)

var severityNames = [...]string{"info", "warning", "error"}

func (s Severity) String() string { return severityNames[s] }

// MarshalText makes a Severity a JSON string.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a Severity back.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// Finding is one thing wrong (or worth knowing) in the capture.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Flow is the flow and direction concerned, sender first
	// ("10.0.2.2:80 > 10.0.1.1:43210"), or the hosts for IP-level findings.
	Flow   string `json:"flow,omitempty"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// MTU is the path MTU the finding implies or reports, when it does.
	MTU int `json:"mtu,omitempty"`
	// MSS is the MSS concerned, when there is one.
	MSS int `json:"mss,omitempty"`
	// Packets are evidence frame numbers (tshark's frame.number), first few.
	Packets []int64 `json:"packets"`
	// Count is how many packets or events the finding covers.
	Count int64  `json:"count"`
	Fix   string `json:"fix"`
}

// Count is a name with a number of packets.
type Count struct {
	Name    string `json:"name"`
	Packets int64  `json:"packets"`
}

// Summary is what the capture says about the path as a whole.
type Summary struct {
	// PathMTU is the path MTU the capture implies, 0 when it implies none.
	// When only bounds are known (a black hole), PathMTUMin and PathMTUMax
	// hold them and PathMTU is 0.
	PathMTU    int     `json:"path_mtu,omitempty"`
	PathMTUMin int     `json:"path_mtu_min,omitempty"`
	PathMTUMax int     `json:"path_mtu_max,omitempty"`
	Source     string  `json:"source,omitempty"` // what implies it
	Packets    []int64 `json:"packets,omitempty"`
	// ClampIPv4 and ClampIPv6 are the MSS to clamp to for PathMTU (RFC 6691,
	// as `mtukit calc` computes it).
	ClampIPv4 int `json:"clamp_mss_ipv4,omitempty"`
	ClampIPv6 int `json:"clamp_mss_ipv6,omitempty"`
	// Calc is the command that gives the full advice (vendor configs) for it.
	Calc string `json:"calc,omitempty"`
	// Tunnel names the dominant encapsulation of the TCP flows as a calc
	// stack spec, with its overhead and the MTU it leaves on a 1500-byte
	// underlay.
	Tunnel         string `json:"tunnel,omitempty"`
	TunnelOverhead int    `json:"tunnel_overhead,omitempty"`
	TunnelMTU1500  int    `json:"tunnel_mtu_1500,omitempty"`
	// LargestPacket is the largest outermost IP packet in the capture.
	LargestPacket    int    `json:"largest_packet"`
	LargestPacketNum int64  `json:"largest_packet_num,omitempty"`
	Verdict          string `json:"verdict"`
}

// DirSummary is one direction of a TCP flow.
type DirSummary struct {
	From        string `json:"from"`
	Packets     int64  `json:"packets"`
	DataPackets int64  `json:"data_packets"`
	Bytes       int64  `json:"bytes"`
	SYN         bool   `json:"syn"`
	// MSS is the MSS option of the direction's SYN (0: none or no SYN).
	MSS          int         `json:"mss,omitempty"`
	WScale       int         `json:"wscale"` // -1: none
	SACKPerm     bool        `json:"sack_perm"`
	Timestamps   bool        `json:"timestamps"`
	MaxSegment   int         `json:"max_segment"`   // largest payload of a wire segment (super-packets count as theirs)
	MaxPacket    int         `json:"max_packet"`    // largest IP packet of a wire segment (same)
	MaxDelivered int         `json:"max_delivered"` // largest payload acknowledged by the peer
	DF           string      `json:"df,omitempty"`  // IPv4: "all", "none", "mixed"
	Retrans      int64       `json:"retransmissions"`
	RetransSizes []sizeCount `json:"retransmissions_by_size,omitempty"`
	Offload      int64       `json:"offload_packets,omitempty"`
	// SYNs lists the direction's SYNs when they carried different
	// sequence numbers or MSS values; MSS above is then the one the
	// connection used (or the first SYN's when the handshake was not seen).
	SYNs []SYNSeen `json:"syns,omitempty"`
	// MSSOtherPoint is the MSS the same SYN carried at another capture
	// point, when it differs (0: no MSS option there): a middlebox between
	// the two rewrote it (mss_clamped).
	MSSOtherPoint *int `json:"mss_other_point,omitempty"`
}

// FlowSummary is one row of the flow table.
type FlowSummary struct {
	Flow       string        `json:"flow"` // initiator first when the SYN was seen
	Encap      string        `json:"encapsulation"`
	Packets    int64         `json:"packets"`
	FirstPkt   int64         `json:"first_packet"`
	Duration   float64       `json:"duration_s"`
	Directions [2]DirSummary `json:"directions"`
	Findings   []string      `json:"findings,omitempty"`
}

// Report is the result of an analysis: what `mtukit analyze` prints as
// text and JSON, and what the web page shows.
type Report struct {
	File     string  `json:"file,omitempty"`
	Format   string  `json:"format,omitempty"`
	Packets  int64   `json:"packets"`
	Bytes    int64   `json:"bytes"` // on the wire (frame lengths), not as captured
	Duration float64 `json:"duration_s"`
	// Flows is the number of TCP flows.
	Flows          int64          `json:"flows"`
	LinkTypes      []Count        `json:"link_types"`
	Encapsulations []Count        `json:"encapsulations"`
	NonIP          int64          `json:"non_ip"`
	Malformed      int64          `json:"malformed"`
	Truncated      int64          `json:"truncated"` // packets the snap length cut inside a header
	Findings       []Finding      `json:"findings"`
	Omitted        map[string]int `json:"omitted,omitempty"` // findings beyond the per-code limit
	Summary        Summary        `json:"summary"`
	FlowTable      []FlowSummary  `json:"flow_table,omitempty"`
	FlowsOmitted   int64          `json:"flows_omitted,omitempty"`
	Partial        bool           `json:"partial,omitempty"`
	Error          string         `json:"error,omitempty"`
}

// WriteText prints the report for a person: a header, the findings worst
// first, the summary, and the flow table when flows is set.
func (r *Report) WriteText(w io.Writer, flows bool) error {
	var b strings.Builder
	name := r.File
	if name == "" {
		name = "capture"
	}
	fmt.Fprintf(&b, "%s: %s, %d packets, %s on the wire, %.3f s, %d TCP flows\n", name, r.Format, r.Packets, humanBytes(r.Bytes), r.Duration, r.Flows)
	if len(r.Encapsulations) > 0 {
		b.WriteString("encapsulation:")
		for i, c := range r.Encapsulations {
			if i == 6 {
				fmt.Fprintf(&b, " (+%d more)", len(r.Encapsulations)-6)
				break
			}
			fmt.Fprintf(&b, " %s %d", c.Name, c.Packets)
			if i < len(r.Encapsulations)-1 && i < 5 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('\n')
	}
	if r.NonIP+r.Malformed+r.Truncated > 0 {
		fmt.Fprintf(&b, "not IP: %d, malformed: %d, cut by the snap length: %d\n", r.NonIP, r.Malformed, r.Truncated)
	}
	if r.Partial {
		fmt.Fprintf(&b, "PARTIAL REPORT: %s\n", r.Error)
	}
	b.WriteByte('\n')
	if len(r.Findings) == 0 {
		b.WriteString("no findings: nothing in this capture points to an MTU or MSS problem\n")
	}
	for i := range r.Findings {
		r.Findings[i].writeText(&b, "")
	}
	for code, n := range sortedMap(r.Omitted) {
		fmt.Fprintf(&b, "... and %d more %s findings\n", n, code)
	}
	s := &r.Summary
	b.WriteString("summary: " + s.Verdict + "\n")
	switch {
	case s.PathMTU > 0:
		fmt.Fprintf(&b, "  path MTU: %d (%s", s.PathMTU, s.Source)
		if len(s.Packets) > 0 {
			fmt.Fprintf(&b, ", packet%s %s", plural(len(s.Packets)), joinNums(s.Packets))
		}
		b.WriteString(")\n")
	case s.PathMTUMax > 0:
		fmt.Fprintf(&b, "  path MTU: between %d and %d (%s)\n", s.PathMTUMin, s.PathMTUMax, s.Source)
	}
	if s.ClampIPv4 > 0 {
		fmt.Fprintf(&b, "  clamp MSS to: %d (IPv4)", s.ClampIPv4)
		if s.ClampIPv6 > 0 {
			fmt.Fprintf(&b, ", %d (IPv6)", s.ClampIPv6)
		}
		fmt.Fprintf(&b, "; router configs: %s\n", s.Calc)
	}
	if s.Tunnel != "" {
		fmt.Fprintf(&b, "  tunnel: %s, %d bytes of overhead; tunnel MTU %d on a 1500-byte underlay\n", s.Tunnel, s.TunnelOverhead, s.TunnelMTU1500)
	}
	if s.LargestPacket > 0 {
		fmt.Fprintf(&b, "  largest IP packet: %d bytes (packet %d)\n", s.LargestPacket, s.LargestPacketNum)
	}
	if flows {
		b.WriteByte('\n')
		writeFlowTable(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeText prints a finding as the text report does, its first line
// after prefix, and a blank line after it.
func (f *Finding) writeText(b *strings.Builder, prefix string) {
	fmt.Fprintf(b, "%s%-7s %s", prefix, strings.ToUpper(f.Severity.String()), f.Code)
	if f.Flow != "" {
		fmt.Fprintf(b, "  %s", f.Flow)
	}
	b.WriteByte('\n')
	fmt.Fprintf(b, "        %s\n", f.Title)
	if f.Detail != "" {
		fmt.Fprintf(b, "        %s\n", f.Detail)
	}
	if len(f.Packets) > 0 {
		fmt.Fprintf(b, "        evidence: packet%s %s", plural(len(f.Packets)), joinNums(f.Packets))
		if f.Count > int64(len(f.Packets)) {
			fmt.Fprintf(b, " (%d in all)", f.Count)
		}
		b.WriteByte('\n')
	}
	if f.Fix != "" {
		fmt.Fprintf(b, "        fix: %s\n", f.Fix)
	}
	b.WriteByte('\n')
}

func writeFlowTable(b *strings.Builder, r *Report) {
	if len(r.FlowTable) == 0 {
		b.WriteString("no TCP flows\n")
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	several := false
	fmt.Fprintln(tw, "FLOW\tFROM\tPKTS\tSYN MSS\tWS\tSACK\tTS\tMAX SEG\tMAX PKT\tDELIVERED\tDF\tRETRANS\tFINDINGS")
	for _, f := range r.FlowTable {
		for i, d := range f.Directions {
			first, fnd := f.Flow, strings.Join(f.Findings, ",")
			if i == 1 {
				first, fnd = "  "+f.Encap, ""
			}
			mssS := "-"
			if d.SYN {
				mssS = "none"
				if d.MSS > 0 {
					mssS = itoa(d.MSS)
				}
			}
			if len(d.SYNs) > 0 {
				mssS, several = synMSSColumn(d.SYNs), true
			}
			ws := "-"
			if d.WScale >= 0 {
				ws = itoa(d.WScale)
			}
			rs := itoa(int(d.Retrans))
			if len(d.RetransSizes) > 0 {
				parts := make([]string, 0, len(d.RetransSizes))
				for _, sc := range d.RetransSizes {
					if sc.Size == 0 {
						parts = append(parts, fmt.Sprintf("%dxother", sc.Count))
					} else {
						parts = append(parts, fmt.Sprintf("%dx%d", sc.Count, sc.Size))
					}
				}
				rs += " (" + strings.Join(parts, " ") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", first, d.From, d.Packets, mssS, ws, yn(d.SACKPerm), yn(d.Timestamps), d.MaxSegment, d.MaxPacket, d.MaxDelivered, orDash(d.DF), rs, orDash(fnd))
		}
	}
	tw.Flush()
	if several {
		b.WriteString("SYN MSS a,b*: the direction sent SYNs with each value, in order; * marks the one the handshake completed\n")
	}
	if r.FlowsOmitted > 0 {
		fmt.Fprintf(b, "(%d more flows not listed)\n", r.FlowsOmitted)
	}
}

func yn(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinNums(ns []int64) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = itoa(int(n))
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// sortedMap iterates a map in key order.
func sortedMap(m map[string]int) func(func(string, int) bool) {
	return func(yield func(string, int) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slicesSort(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

func slicesSort(s []string) { sort.Strings(s) }
