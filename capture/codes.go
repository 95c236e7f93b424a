package capture

import (
	"fmt"
	"strings"
)

// CodeInfo describes a finding code. Codes is the one table of them: it
// ranks findings of the same severity in the text report (codeOrder),
// writes the list in `mtukit analyze --help`, and a test holds
// docs/analyze.md to it (a row per code, with its anchor and severity).
// A new finding is a Code constant, a row here and a row in the doc.
type CodeInfo struct {
	Code string
	// Severity as the doc gives it: one severity, or the cases when a
	// code has more than one.
	Severity string
	// Help is the line of `mtukit analyze --help`.
	Help string
}

// Anchor is the code's anchor in docs/analyze.md.
func (c CodeInfo) Anchor() string { return "code-" + c.Code }

// Codes lists the finding codes, in the order the text report ranks
// findings of the same severity.
var Codes = []CodeInfo{
	{CodeBlackhole, "error", "full-size segments vanish, no ICMP comes back (PMTUD black hole)"},
	{CodePTBIgnored, "error", "ICMP packet-too-big the sender did not act on"},
	{CodeOversizeSegment, "warning", "segments larger than the peer's MSS"},
	{CodePTBSuspicious, "warning", "ICMP packet-too-big quoting a packet never sent, or an impossible MTU"},
	{CodeTunnelMSS, "warning", "an MSS too large for the tunnel the flow rides in"},
	{CodeFragmentOverlap, "error (different bytes) / warning (duplicates)", "IP fragments that overlap earlier ones"},
	{CodeFragmentMalformed, "warning", "tiny, misaligned or oversized fragments"},
	{CodeDFConflict, "warning", "IPv4 fragments with don't-fragment set"},
	{CodeFragmentation, "warning (TCP) / info", "IP fragments, and the MTU where they were cut"},
	{CodeMSSLow, "warning", "an MSS below 536 (IPv4) / 1220 (IPv6)"},
	{CodeBadTCPOption, "warning", "malformed TCP options"},
	{CodePTB, "info", "ICMP packet-too-big, tied to the flow it quotes; the sender adapted"},
	{CodeMSSClamped, "info", "a middlebox rewrites the MSS"},
	{CodeSYNMSSChanged, "info", "SYNs of one direction with different MSS values, and the one the connection used"},
	{CodeOffload, "info", "TSO/GSO/GRO/BIG TCP super-packets: a capture artifact"},
	{CodeMalformedPacket, "warning", "headers that do not parse"},
}

// codeOrder ranks codes of the same severity in the text report.
var codeOrder = func() map[string]int {
	m := make(map[string]int, len(Codes))
	for i, c := range Codes {
		m[c.Code] = i
	}
	return m
}()

// CodesHelp is the list of codes for `mtukit analyze --help`, one line
// each, indented by two spaces.
func CodesHelp() string {
	var b strings.Builder
	for i, c := range Codes {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "  %-18s %s", c.Code, c.Help)
	}
	return b.String()
}
