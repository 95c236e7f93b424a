// Package mss holds the TCP maximum segment size rules and the tools that
// act on them: a zero-allocation TCP option codec, the effective send MSS
// of RFC 9293 §3.7.1 with the RFC 6691 rules, and an in-place SYN clamper
// that rewrites the MSS option byte for byte as the Linux TCPMSS target and
// nftables' "tcp option maxseg size set" do.
//
// Three numbers are easy to confuse, so each has one meaning here:
//
//   - the MSS option value: what a SYN advertises, the largest TCP payload the
//     sender of the SYN is willing to receive in one segment. RFC 6691 §2
//     computes it from the MTU minus the fixed IP and TCP headers only
//     (MTU-40 for IPv4, MTU-60 for IPv6: ForMTU).
//   - the send MSS: the MSS option received from the peer, or the default of
//     536 (IPv4) / 1220 (IPv6) when the peer's SYN carried none.
//   - the effective send MSS: the largest payload a sender actually puts in
//     a segment, after it subtracts the TCP options and IP options it sends
//     on that segment (RFC 9293 §3.7.1; EffectiveSendMSS).
//
// Locate is the frame locator shared by the clamper and the capture
// decoder: it walks the link headers of any framing a capture uses (link
// types, EtherTypes, PPP protocols) to the first IP header.
//
// The package is pure: it imports no net and no syscall, works on caller
// buffers and never allocates on the per-packet path (asserted in tests).
package mss
