// Package encap is mtukit's encapsulation arithmetic: a model of every layer a
// packet can be wrapped in (link framing, IP, GRE, UDP overlays, IPsec,
// WireGuard, OpenVPN...) with its exact bytes, and the solver that answers
// both questions an engineer asks of a stack:
//
//   - how large may the inner IP packet be on a link of a given MTU
//     (Stack.TunnelMTU), and
//   - how large does a given inner packet become on the wire, header by header
//     (Stack.WireSize, Stack.Breakdown).
//
// A stack is written from the wire inwards: "pppoe/esp(aes-cbc,sha256,nat-t)/gre(key)"
// is GRE with a key, inside ESP tunnel mode with NAT-T, inside PPPoE. Tunnel
// layers include their own outer IP header (IPv4 unless the layer has the
// argument ipv6).
//
// # MTU notions
//
// Three sizes are easily confused, so each has a fixed meaning here:
//
//   - link MTU: the IP MTU of the physical link the stack rides on (1500 on
//     Ethernet). Its own L2 header, FCS and preamble never count against it.
//   - tunnel MTU: the largest inner IP packet that fits after every layer of
//     the stack; what `ip link set dev TUN mtu` should be.
//   - MSS: the TCP payload of a segment in a packet of tunnel MTU, with the
//     fixed IP and TCP headers only (RFC 6691); see package mss.
//
// # Padding
//
// Most layers add a fixed number of bytes. ESP (RFC 4303 §2.4) and OpenVPN's
// CBC mode pad the encrypted region to a block size, so their overhead
// depends on the packet size; WireGuard pads to 16 bytes but never beyond
// its interface MTU. The solver is exact for all of them, nested in any
// order, and reports the overhead range over packet sizes. The ESP formula is
// the one Linux uses in xfrm_state_mtu (net/xfrm/xfrm_state.c).
//
// The package is pure: no network, no syscalls.
package encap
