// Package oracle holds lab tests that use the Linux kernel as an independent
// oracle for mtukit's arithmetic: the numbers `mtukit calc` prints (package
// advise, from packages encap and mss) are compared with what the kernel does
// on real sockets and devices in network namespaces built with netlab.
//
//   - TCP: over a veth link of MTU m, a real connection's TCP_MAXSEG (both
//     ends) equals calc's MSS for a plain link of MTU m, IPv4 and IPv6, with
//     timestamps off; with timestamps on it equals calc's "payload with
//     timestamps"; the SYN and SYN-ACK on the wire carry calc's MSS.
//   - VXLAN: a vxlan device created over a link of MTU m gets calc's tunnel
//     MTU for "vxlan" (IPv4 underlay) and "vxlan(ipv6)"; the kernel refuses
//     one byte more; a DF packet of exactly the tunnel MTU crosses the tunnel
//     unfragmented in an outer packet of calc's wire size, one byte more does
//     not; and TCP through the tunnel gets calc's MSS for the stack.
//
// The package has no code of its own: only this doc and the tests. They need
// root (see netlab.Require) and run with MTUKIT_LAB=1 in CI.
package oracle
