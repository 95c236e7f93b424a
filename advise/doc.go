// Package advise turns the numbers of package encap into the advice an
// engineer acts on: the calc Report (tunnel MTU, MSS per family, overhead,
// status, efficiency, warnings, a segmentation blueprint) and ready-to-paste
// configuration for Linux, Cisco, Juniper, Palo Alto, MikroTik and VyOS.
//
// One Report feeds the CLI's text and JSON output and the web page, so the
// three can never disagree.
//
// # Status
//
// Status is decided by one rule, in this order:
//
//   - critical: the tunnel MTU is below 1280. IPv6 cannot run over it
//     without fragmenting inside the tunnel (RFC 8200 §5), QUIC over IPv6
//     cannot run (RFC 9000 §14: 1200-byte UDP payloads need 1248; over
//     IPv4 1228), and below 576 the IPv4 MSS falls under the 536 a host
//     assumes when no MSS option arrives (RFC 9293 §3.7.1).
//   - needs-clamp: the stack takes room from the link MTU, so hosts that
//     believe they have the link MTU will send packets that do not fit; the
//     MSS must be clamped (and the tunnel interface MTU set) or the path
//     depends on PMTUD, which ICMP filtering breaks.
//   - optimal: the stack takes nothing from the link MTU (a plain link, or
//     framing carried outside the MTU such as an 802.1Q tag).
//
// The package is pure: no network, no syscalls.
package advise
