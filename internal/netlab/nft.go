package netlab

import (
	"fmt"
	"strings"
)

// Hook is a netfilter hook where the helper rules go.
type Hook string

const (
	Input   Hook = "input"   // packets for this host
	Forward Hook = "forward" // packets routed through this host
	Output  Hook = "output"  // packets this host sends (including its ICMP errors)
)

// nftTable is the table the helpers add their rules to, one per namespace.
const nftTable = "netlab"

// Nft loads a ruleset into the host's namespace with nft -f -. It fails the
// test on error, showing nft's message.
func (h *Host) Nft(ruleset string) {
	h.lab.t.Helper()
	if _, err := h.RunInput(ruleset, "nft", "-f", "-"); err != nil {
		h.lab.t.Fatalf("netlab %s: nft: %v\nruleset:\n%s", h.name, err, ruleset)
	}
}

// NftRule appends one rule ("meta length > 1400 drop") to the base chain for
// hook in the host's "inet netlab" table, creating table and chain (policy
// accept, priority 0) the first time.
func (h *Host) NftRule(hook Hook, rule string) {
	h.lab.t.Helper()
	switch hook {
	case Input, Forward, Output:
	default:
		h.lab.t.Fatalf("netlab %s: nft hook %q: want input, forward or output", h.name, hook)
	}
	h.Nft(fmt.Sprintf(`table inet %[1]s {
	chain %[2]s { type filter hook %[2]s priority 0; policy accept; }
}
add rule inet %[1]s %[2]s %[3]s
`, nftTable, hook, rule))
}

// DropPTB makes the host a PMTUD black hole: it drops ICMPv4 "fragmentation
// needed" (type 3 code 4) and ICMPv6 "packet too big" (type 2) that it
// forwards or sends itself (a router's own errors leave through output).
func (h *Host) DropPTB() {
	h.lab.t.Helper()
	for _, hook := range []Hook{Forward, Output} {
		h.NftRule(hook, "icmp type destination-unreachable icmp code frag-needed counter drop")
		h.NftRule(hook, "icmpv6 type packet-too-big counter drop")
	}
}

// RandomLoss drops percent (0..100) of the packets at hook, chosen at
// random (numgen random mod 100 < percent; 0 adds nothing, 100 drops all). match narrows it ("udp dport
// 4789", "ip protocol icmp"); empty means every packet.
func (h *Host) RandomLoss(hook Hook, percent int, match string) {
	h.lab.t.Helper()
	if percent < 0 || percent > 100 {
		h.lab.t.Fatalf("netlab %s: loss %d%%: want 0..100", h.name, percent)
	}
	switch percent {
	case 0:
		return
	case 100: // numgen ... mod 100 yields 0..99, and nft rejects "< 100"
		h.NftRule(hook, strings.TrimSpace(match+" counter drop"))
	default:
		h.NftRule(hook, strings.TrimSpace(fmt.Sprintf("%s numgen random mod 100 < %d counter drop", match, percent)))
	}
}

// DropLarger silently drops packets longer than max bytes at hook (meta
// length: the IP packet for inet hooks), without an ICMP error: a link that
// eats big packets.
func (h *Host) DropLarger(hook Hook, max int) {
	h.lab.t.Helper()
	h.NftRule(hook, fmt.Sprintf("meta length > %d counter drop", max))
}

// DropFragments drops IPv4 fragments (MF set or offset non-zero) and IPv6
// packets with a fragment header at hook, so a test can show a packet got
// through unfragmented.
func (h *Host) DropFragments(hook Hook) {
	h.lab.t.Helper()
	h.NftRule(hook, "ip frag-off & 0x3fff != 0 counter drop")
	h.NftRule(hook, "exthdr frag exists counter drop")
}

// NftList returns the host's current ruleset (nft list ruleset), counters included.
func (h *Host) NftList() string {
	h.lab.t.Helper()
	return h.MustRun("nft", "list", "ruleset")
}
